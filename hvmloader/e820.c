/*
 * e820.c - the guest's E820 memory map.
 *
 * Entries, in address order (see the layout in hvm.h):
 *   RAM       [0, 0x9F000)
 *   reserved  [0x9F000, 0xA0000)        hvm_info_table page, EBDA
 *   reserved  [0xE0000, 0x100000)       BIOS area: MP, SMBIOS, entry points
 *   RAM       [1 MiB, acpi_base)
 *   NVS       [acpi_base, +4 KiB)       FACS
 *   ACPI      [acpi_base + 4 KiB, low_mem_end)
 *   reserved  [RESERVED_MEMBASE, 4 GiB) IOAPIC, HPET, LAPIC, BIOS ROM
 *   RAM       [4 GiB, high_mem_end)
 * The PCI hole between low_mem_end and RESERVED_MEMBASE is left out, so the
 * OS may place BARs there.
 */
#include "hvm.h"

static int e820_add(struct hvm_e820_entry *out, size_t max, size_t *n,
		    uint64_t addr, uint64_t end, uint32_t type)
{
	if (end <= addr)
		return 0;
	if (*n >= max)
		return -ENOSPC;
	out[*n].addr = addr;
	out[*n].size = end - addr;
	out[*n].type = type;
	(*n)++;
	return 0;
}

/* Write the map above into `out`; bytes written, -EINVAL or -ENOSPC. */
int hvm_e820_build(const struct hvm_config *cfg, struct hvm_e820_entry *out,
		   size_t len)
{
	size_t max = len / sizeof(*out), n = 0;
	uint64_t nvs_end = (uint64_t)cfg->acpi_base + HVM_ACPI_NVS_SIZE;
	int rc = 0;

	if (cfg->low_mem_end < (16u << 20) ||
	    cfg->acpi_base < HVM_BIOS_AREA_END || nvs_end >= cfg->low_mem_end ||
	    cfg->low_mem_end > HVM_RESERVED_MEMBASE)
		return -EINVAL;
	rc |= e820_add(out, max, &n, 0, HVM_LOWRAM_END, HVM_E820_RAM);
	rc |= e820_add(out, max, &n, HVM_LOWRAM_END, 0xA0000, HVM_E820_RESERVED);
	rc |= e820_add(out, max, &n, HVM_BIOS_AREA_START, HVM_BIOS_AREA_END,
		       HVM_E820_RESERVED);
	rc |= e820_add(out, max, &n, HVM_BIOS_AREA_END, cfg->acpi_base,
		       HVM_E820_RAM);
	rc |= e820_add(out, max, &n, cfg->acpi_base, nvs_end, HVM_E820_NVS);
	rc |= e820_add(out, max, &n, nvs_end, cfg->low_mem_end, HVM_E820_ACPI);
	rc |= e820_add(out, max, &n, HVM_RESERVED_MEMBASE, 1ull << 32,
		       HVM_E820_RESERVED);
	if (cfg->high_mem_end > (1ull << 32))
		rc |= e820_add(out, max, &n, 1ull << 32, cfg->high_mem_end,
			       HVM_E820_RAM);
	if (rc)
		return -ENOSPC;
	return (int)(n * sizeof(*out));
}
