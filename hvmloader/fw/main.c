/*
 * main.c - the firmware's flow:
 *
 *   1. find the configuration: hvm_info_table at 0x9F800 when it is valid
 *      (Xen), else CMOS (QEMU: memory sizes, vCPU count) overridden by the
 *      command line from multiboot or hvm_start_info;
 *   2. chipset: unlock the BIOS area, PIIX3 PIRQ routing and ELCR, PM base;
 *   3. PCI: size every BAR on bus 0, place them (hvm_pci_allocate), program
 *      them, enable decoding;
 *   4. write E820, ACPI, SMBIOS and MP tables at their places (hvm.h);
 *   5. print a summary; with dump=1 stream every table to port 0x7F0 and
 *      exit QEMU through isa-debug-exit (unless halt=1); exit=1 exits
 *      without dumping (boot-time measurement).
 *
 * The command line is parsed by hvm_cmdline_parse() (cmdline.c).
 */
#include "fw.h"
#include "../hvm.h"
#include "../hvmdump.h"

#include <xen/arch-x86/hvm/start_info.h>
#include <xen/hvm/e820.h>
#include <xen/hvm/hvm_info_table.h>

#define MB_BOOT_MAGIC   0x2BADB002u
#define MB_INFO_CMDLINE (1u << 2)
#define MAX_BARS        128
#define CMDLINE_MAX     512

_Static_assert(HVM_MAX_VCPU == HVM_MAX_VCPUS,
	       "vCPU limit follows hvm_info_table.h");
_Static_assert(HVM_MMIO_DEFAULT_START == HVM_BELOW_4G_MMIO_START,
	       "hole start is Xen's");

enum boot_kind {
	BOOT_MULTIBOOT = 1,
	BOOT_PVH = 2
};

static struct hvm_config cfg;
static struct hvm_bar bars[MAX_BARS];
static char cmdline[CMDLINE_MAX];
static char strpool[1024];
static struct hvm_cmdline opt;
static uint64_t tsc_start;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
		  uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

static uint8_t cmos_read(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static void copy_cmdline(uint32_t addr)
{
	const char *s = (const char *)(uintptr_t)addr;
	size_t i;

	if (!addr)
		return;
	for (i = 0; i < CMDLINE_MAX - 1 && s[i]; i++)
		cmdline[i] = s[i];
	cmdline[i] = 0;
}

static const struct hvm_info_table *find_hvm_info(void)
{
	const struct hvm_info_table *t = (const void *)(uintptr_t)HVM_INFO_PADDR;

	if (!hvm_memeq(t->signature, "HVM INFO", 8))
		return 0;
	if (t->length < sizeof(*t) || t->length > 0x800 ||
	    hvm_sum8(t, t->length))
		return 0;
	if (t->nr_vcpus < 1 || t->nr_vcpus > HVM_MAX_VCPUS || !t->low_mem_pgend)
		return 0;
	return t;
}

/* RAM below 4 GiB and above, as the QEMU pc machine reports it in CMOS */
static void cmos_memory(uint64_t *low, uint64_t *high)
{
	uint32_t above16 = cmos_read(0x34) | (uint32_t)cmos_read(0x35)
						     << 8; /* 64 KiB */
	uint32_t above4g = cmos_read(0x5B) | (uint32_t)cmos_read(0x5C) << 8 |
			   (uint32_t)cmos_read(0x5D) << 16; /* 64 KiB */

	*low = above16 ? (16u << 20) + ((uint64_t)above16 << 16)
		       : (1u << 20) + ((uint64_t)(cmos_read(0x30) |
						  cmos_read(0x31) << 8)
				       << 10);
	*high = above4g ? (1ull << 32) + ((uint64_t)above4g << 16) : 0;
}

static int configure(enum boot_kind kind, uint32_t magic, uint32_t info)
{
	const struct hvm_info_table *hi = find_hvm_info();
	uint32_t a, b, c, d;
	uint64_t low, high;
	int rc;

	if (kind == BOOT_MULTIBOOT && magic == MB_BOOT_MAGIC) {
		const uint32_t *mbi = (const uint32_t *)(uintptr_t)info;

		if (mbi[0] & MB_INFO_CMDLINE)
			copy_cmdline(mbi[4]);
	} else if (kind == BOOT_PVH) {
		const struct hvm_start_info *si = (const void *)(uintptr_t)info;

		if (si->magic == XEN_HVM_START_MAGIC_VALUE)
			copy_cmdline((uint32_t)si->cmdline_paddr);
	}
	hvm_fw_printf("hvmloader: entered by %s, command line \"%s\"\n",
		      kind == BOOT_PVH ? "PVH" : "multiboot", cmdline);

	hvm_config_init(&cfg, 1, 64u << 20);
	if (hvm_cmdline_parse(cmdline, &cfg, &opt, strpool, sizeof(strpool)))
		hvm_fw_printf(
			"hvmloader: some of the command line was malformed, ignored\n");

	if (hi) {
		low = (uint64_t)hi->low_mem_pgend << 12;
		high = hi->high_mem_pgend ? (uint64_t)hi->high_mem_pgend << 12
					  : 0;
		cfg.nr_vcpus = hi->nr_vcpus;
		cfg.apic_id_stride = 2;
		cfg.ioapic_id = 1;
		hvm_fw_printf("hvmloader: hvm_info_table: %u vCPUs\n",
			      hi->nr_vcpus);
	} else {
		cmos_memory(&low, &high);
		cfg.nr_vcpus =
			(uint32_t)cmos_read(0x5F) + 1; /* QEMU: CPUs - 1 */
		if (cfg.nr_vcpus > HVM_MAX_VCPU)
			cfg.nr_vcpus = 1; /* not QEMU's CMOS layout */
		if (opt.mem_mb) {
			/* mem= may shrink what CMOS reports, never grow it */
			uint64_t mem = (uint64_t)opt.mem_mb << 20, want_high;

			if (mem < low)
				low = mem;
			want_high = mem > low ? (1ull << 32) + (mem - low) : 0;
			high = want_high < high ? want_high : high;
		}
		if (opt.vcpus >= 1 && opt.vcpus <= HVM_MAX_VCPU)
			cfg.nr_vcpus = opt.vcpus;
		/* QEMU numbers APICs 0..N-1; the IOAPIC takes the next free ID */
		cfg.apic_id_stride = 1;
		cfg.ioapic_id =
			(uint8_t)(cfg.nr_vcpus < 255 ? cfg.nr_vcpus : 254);
	}
	if (low > HVM_MMIO_DEFAULT_START)
		low = HVM_MMIO_DEFAULT_START;
	rc = hvm_config_set_memory(&cfg, low & ~0xFFFull, high & ~0xFFFull);
	if (rc)
		return rc;
	cpuid(1, &a, &b, &c, &d);
	cfg.cpu_signature = a;
	cfg.cpu_features = d;
	a = mmio_read32(HVM_HPET_ADDR);
	if (a && a != 0xFFFFFFFFu)
		cfg.hpet_id = a;
	return hi ? 1 : 2;
}

static void program_ioapic_id(void)
{
	if (cfg.ioapic_id > 15)
		return; /* the IOAPIC ID register has 4 bits */
	mmio_write32(HVM_IOAPIC_ADDR, 0);
	mmio_write32(HVM_IOAPIC_ADDR + 0x10, (uint32_t)cfg.ioapic_id << 24);
}

static const char *const e820_names[] = { "?", "RAM", "reserved", "ACPI",
					  "NVS" };

static struct hvm_acpi_info acpi;
static struct hvm_smbios_info smb;
static int e820_len, mp_len, nbars;

static int write_tables(void)
{
	struct hvm_e820_entry *e820 =
		(struct hvm_e820_entry *)(uintptr_t)(HVM_E820_PAGE +
						     HVM_E820_OFFSET);
	struct hvm_tables t = {
		.bios = (uint8_t *)(uintptr_t)HVM_BIOS_AREA_START,
		.acpi = (uint8_t *)(uintptr_t)cfg.acpi_base,
		.e820 = e820,
		.e820_size = 0x1000 - HVM_E820_OFFSET,
	};
	int rc, i;

	rc = hvm_tables_build(&cfg, &t);
	if (rc < 0)
		return rc;
	e820_len = t.e820_len;
	mp_len = t.mp_len;
	acpi = t.acpi_info;
	smb = t.smbios;
	*(uint8_t *)(uintptr_t)(HVM_E820_PAGE + HVM_E820_NR_OFFSET) =
		(uint8_t)(e820_len / (int)sizeof(*e820));

	hvm_fw_printf("hvmloader: E820:\n");
	for (i = 0; i < e820_len / (int)sizeof(*e820); i++)
		hvm_fw_printf("hvmloader:   %016llx-%016llx %s\n", e820[i].addr,
			      e820[i].addr + e820[i].size - 1,
			      e820_names[e820[i].type <= 4 ? e820[i].type : 0]);
	hvm_fw_printf("hvmloader: ACPI: RSDP %x RSDT %x XSDT %x FACS %x DSDT %x SSDT %x "
		      "MADT %x, %u bytes\n",
		      HVM_RSDP_ADDR, acpi.rsdt, acpi.xsdt, acpi.facs, acpi.dsdt,
		      acpi.ssdt, acpi.madt, acpi.end - cfg.acpi_base);
	hvm_fw_printf("hvmloader: SMBIOS: %u structures, %u bytes at %x\n",
		      smb.nr_structures, smb.table_len, HVM_SMBIOS_ADDR);
	if (mp_len)
		hvm_fw_printf("hvmloader: MP: %u bytes at %x, pointer at %x\n",
			      mp_len, HVM_MP_TABLE_ADDR, HVM_MP_FLOAT_ADDR);
	return 0;
}

static uint32_t acpi_len(uint32_t addr)
{
	return ((const struct hvm_acpi_header *)(uintptr_t)addr)->length;
}

static void dump_all(int source, uint32_t boot_us)
{
	static struct hvm_dump_bar db[MAX_BARS];
	struct hvm_dump_config dc = { 0 };
	int i;

	hvm_fw_dump("RSDP", HVM_RSDP_ADDR, (void *)HVM_RSDP_ADDR,
		    sizeof(struct hvm_acpi_rsdp));
	hvm_fw_dump("RSDT", acpi.rsdt, (void *)acpi.rsdt, acpi_len(acpi.rsdt));
	hvm_fw_dump("XSDT", acpi.xsdt, (void *)acpi.xsdt, acpi_len(acpi.xsdt));
	hvm_fw_dump("FACP1", acpi.fadt1, (void *)acpi.fadt1,
		    acpi_len(acpi.fadt1));
	hvm_fw_dump("FACP", acpi.fadt, (void *)acpi.fadt, acpi_len(acpi.fadt));
	hvm_fw_dump("FACS", acpi.facs, (void *)acpi.facs,
		    sizeof(struct hvm_acpi_facs));
	hvm_fw_dump("DSDT", acpi.dsdt, (void *)acpi.dsdt, acpi_len(acpi.dsdt));
	hvm_fw_dump("SSDT", acpi.ssdt, (void *)acpi.ssdt, acpi_len(acpi.ssdt));
	hvm_fw_dump("APIC", acpi.madt, (void *)acpi.madt, acpi_len(acpi.madt));
	hvm_fw_dump("HPET", acpi.hpet, (void *)acpi.hpet, acpi_len(acpi.hpet));
	hvm_fw_dump("WAET", acpi.waet, (void *)acpi.waet, acpi_len(acpi.waet));
	hvm_fw_dump("SMBIOS", HVM_SMBIOS_ADDR, (void *)HVM_SMBIOS_ADDR,
		    smb.table_len);
	hvm_fw_dump("SM3EP", HVM_SMBIOS3_EP_ADDR, (void *)HVM_SMBIOS3_EP_ADDR,
		    sizeof(struct hvm_smbios3_ep));
	hvm_fw_dump("SM21EP", HVM_SMBIOS21_EP_ADDR, (void *)HVM_SMBIOS21_EP_ADDR,
		    sizeof(struct hvm_smbios21_ep));
	if (mp_len) {
		hvm_fw_dump("MP", HVM_MP_TABLE_ADDR, (void *)HVM_MP_TABLE_ADDR,
			    (uint32_t)mp_len);
		hvm_fw_dump("MPFP", HVM_MP_FLOAT_ADDR,
			    (void *)HVM_MP_FLOAT_ADDR, 16);
	}
	hvm_fw_dump("E820", HVM_E820_PAGE + HVM_E820_OFFSET,
		    (void *)(HVM_E820_PAGE + HVM_E820_OFFSET),
		    (uint32_t)e820_len);
	for (i = 0; i < nbars; i++) {
		db[i].bus = bars[i].bus;
		db[i].devfn = bars[i].devfn;
		db[i].index = bars[i].index;
		db[i].flags = bars[i].flags;
		db[i].vendor = hvm_pci_read16(bars[i].devfn, 0);
		db[i].device = hvm_pci_read16(bars[i].devfn, 2);
		db[i].base = bars[i].base;
		db[i].size = bars[i].size;
	}
	hvm_fw_dump("BARS", 0, db, (uint32_t)(nbars * (int)sizeof(db[0])));
	dc.nr_vcpus = cfg.nr_vcpus;
	dc.apic_id_stride = cfg.apic_id_stride;
	dc.low_mem_end = cfg.low_mem_end;
	dc.high_mem_end = cfg.high_mem_end;
	dc.mmio_start = cfg.mmio_start;
	dc.mmio_end = cfg.mmio_end;
	dc.mmio64_start = cfg.mmio64_start;
	dc.mmio64_size = cfg.mmio64_size;
	dc.acpi_base = cfg.acpi_base;
	dc.source = (uint32_t)source;
	dc.boot_us = boot_us;
	hvm_fw_dump("CONFIG", 0, &dc, sizeof(dc));
	/* low memory an OS scans: the BDA (EBDA pointer), the EBDA page, the
	 * BIOS area; hvmdump assembles the MEM records into a 1 MiB image */
	hvm_fw_dump("MEM", 0, (void *)0, 0x500);
	hvm_fw_dump("MEM", HVM_LOWRAM_END, (void *)HVM_LOWRAM_END,
		    0xA0000 - HVM_LOWRAM_END);
	hvm_fw_dump("MEM", HVM_BIOS_AREA_START, (void *)HVM_BIOS_AREA_START,
		    HVM_BIOS_AREA_END - HVM_BIOS_AREA_START);
	hvm_fw_dump("END", 0, 0, 0);
}

/* TSC ticks per microsecond from the PIT channel 2 (10 ms gate) */
static uint32_t tsc_per_us(void)
{
	uint64_t t0, t1;
	uint32_t ticks;

	outb(0x61,
	     (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(0x43, 0xB0);                            /* ch2, lo/hi, mode 0 */
	outb(0x42, 11932 & 0xFF);                    /* 10 ms at 1.193182 MHz */
	outb(0x42, 11932 >> 8);
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		;
	t1 = rdtsc();
	ticks = (uint32_t)((t1 - t0) >> 4); /* keep it 32-bit: /16 then /625 */
	return ticks / 625 ? ticks / 625 : 1;
}

void hvm_fw_main(uint32_t kind, uint32_t magic, uint32_t info);

/* Called by entry.S with the entry kind (1 multiboot, 2 PVH), EAX and EBX. */
void hvm_fw_main(uint32_t kind, uint32_t magic, uint32_t info)
{
	uint32_t boot_us, per_us;
	uint64_t dt;
	int source, rc, i;

	tsc_start = rdtsc();
	hvm_fw_printf("hvmloader: splitdrv hvmloader starting\n");
	source = configure((enum boot_kind)kind, magic, info);
	if (source < 0) {
		hvm_fw_printf("hvmloader: bad memory layout (%d)\n", source);
		hvm_fw_exit(HVM_EXIT_FAIL);
	}
	hvm_fw_printf("hvmloader: %u vCPUs, low RAM %llx, high RAM end %llx, config from %s\n",
		      cfg.nr_vcpus, cfg.low_mem_end, cfg.high_mem_end,
		      source == 1 ? "hvm_info_table" : "CMOS/command line");

	/* on QEMU the BIOS left 0xE0000-0xFFFFF read-only; under Xen the PAM
	 * registers have no effect and this is harmless */
	hvm_fw_unlock_bios_area();
	hvm_fw_pci_setup_chipset(&cfg);
	program_ioapic_id();

	nbars = hvm_fw_pci_scan(bars, MAX_BARS);
	rc = hvm_pci_allocate(&cfg, bars, (size_t)nbars);
	if (rc) {
		hvm_fw_printf("hvmloader: cannot place the PCI BARs (%d)\n", rc);
		hvm_fw_exit(HVM_EXIT_FAIL);
	}
	hvm_fw_pci_program(&cfg, bars, (size_t)nbars);
	for (i = 0; i < nbars; i++)
		hvm_fw_printf("hvmloader: pci 00:%02x.%u BAR%u %s %llx size %llx\n",
			      bars[i].devfn >> 3, bars[i].devfn & 7,
			      bars[i].index,
			      bars[i].flags & HVM_BAR_IO    ? "io "
			      : bars[i].flags & HVM_BAR_ROM ? "rom"
			      : bars[i].flags & HVM_BAR_64  ? "m64"
							    : "mem",
			      bars[i].base, bars[i].size);

	rc = write_tables();
	if (rc) {
		hvm_fw_printf("hvmloader: writing the tables failed (%d)\n", rc);
		hvm_fw_exit(HVM_EXIT_FAIL);
	}
	dt = rdtsc() - tsc_start;
	per_us = tsc_per_us();
	/* 32-bit division only (no libgcc): clamp what does not fit */
	boot_us = (dt >> 32) ? 0xFFFFFFFFu : (uint32_t)dt / per_us;
	hvm_fw_printf("hvmloader: tables written in %u us\n", boot_us);

	if (opt.dump) {
		dump_all(source, boot_us);
		hvm_fw_printf("hvmloader: dump complete\n");
	}
	hvm_fw_printf("hvmloader: done\n");
	if ((opt.dump || opt.exit) && !opt.halt)
		hvm_fw_exit(HVM_EXIT_OK);
	hvm_fw_halt();
}
