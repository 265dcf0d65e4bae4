/*
 * util.c - configuration defaults and the small helpers every builder uses.
 * Freestanding-safe: no libc beyond the compiler's builtins.
 */
#include "hvm.h"

static const char hvm_default_oem[] = "splitdrv hvmloader";

/* Sum of `len` bytes modulo 256; a table with a valid checksum sums to 0. */
uint8_t hvm_sum8(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

/* The checksum byte for `len` bytes whose checksum field is still 0. */
uint8_t hvm_checksum(const void *p, size_t len)
{
	return (uint8_t)(0x100 - hvm_sum8(p, len));
}

/* strlen() for code that also runs without libc. */
size_t hvm_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* 1 when the `n` bytes at `a` and `b` are equal, else 0. */
int hvm_memeq(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	while (n--)
		if (*x++ != *y++)
			return 0;
	return 1;
}

/* RAM layout -> ACPI area and PCI windows; 0 or -EINVAL (see hvm.h). */
int hvm_config_set_memory(struct hvm_config *cfg, uint64_t low, uint64_t high)
{
	uint64_t top64;

	if (low < (16u << 20) || low > HVM_MMIO_DEFAULT_START || (low & 0xFFF))
		return -EINVAL;
	if (high && (high <= (1ull << 32) || (high & 0xFFF)))
		return -EINVAL;
	cfg->low_mem_end = low;
	cfg->high_mem_end = high;
	cfg->acpi_base = (uint32_t)low - HVM_ACPI_AREA_SIZE;
	cfg->mmio_start = HVM_MMIO_DEFAULT_START;
	cfg->mmio_end = HVM_RESERVED_MEMBASE;
	top64 = high ? high : (1ull << 32);
	cfg->mmio64_start = (top64 + (1ull << 30) - 1) & ~((1ull << 30) - 1);
	cfg->mmio64_size = 0;
	return 0;
}

/* Defaults for `vcpus` and `mem` bytes, Xen's split; 0 or -EINVAL (see hvm.h). */
int hvm_config_init(struct hvm_config *cfg, unsigned int vcpus, uint64_t mem)
{
	uint64_t low, high;

	if (vcpus < 1 || vcpus > HVM_MAX_VCPU || mem < (16u << 20))
		return -EINVAL;
	__builtin_memset(cfg, 0, sizeof(*cfg));
	cfg->nr_vcpus = vcpus;
	cfg->apic_id_stride = 2;
	cfg->ioapic_id = 1;
	cfg->ioapic_version = 0x11;
	cfg->lapic_version = 0x14;
	cfg->pci_link_irq[0] = 5;
	cfg->pci_link_irq[1] = 10;
	cfg->pci_link_irq[2] = 11;
	cfg->pci_link_irq[3] = 5;
	cfg->hpet_id = HVM_HPET_ID_DEFAULT;
	cfg->cpu_signature = 0x000006f1; /* family 6 model 15 */
	cfg->cpu_features = 0x0781abfd;

	low = mem < HVM_MMIO_DEFAULT_START ? mem : HVM_MMIO_DEFAULT_START;
	low &= ~0xFFFull;
	high = mem > low ? (1ull << 32) + (mem - low) : 0;
	high &= ~0xFFFull;

	cfg->bios_vendor = "Xen";
	cfg->bios_version = "splitdrv-hvmloader";
	cfg->bios_date = "11/25/2026";
	cfg->sys_manufacturer = "Xen";
	cfg->sys_product = "HVM domU";
	cfg->sys_version = "splitdrv";
	cfg->sys_serial = "0";
	cfg->sys_family = "Virtual Machine";
	cfg->sys_sku = "";
	cfg->chassis_manufacturer = "Xen";
	cfg->chassis_serial = "";
	cfg->chassis_asset = "";
	cfg->cpu_manufacturer = "Xen";
	cfg->oem_strings[0] = hvm_default_oem;
	return hvm_config_set_memory(cfg, low, high);
}
