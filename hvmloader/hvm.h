/*
 * hvm.h - hvmloader's table builders: E820, ACPI, SMBIOS, MP, PCI BAR
 * allocation, and the checkers that validate what they produce.
 *
 * The same C is compiled twice: into libhvm.a for host unit tests and
 * tools, and into the freestanding 32-bit firmware image.  Every builder
 * writes into a caller-given buffer and returns the number of bytes it
 * wrote, or -errno (-ENOSPC when the buffer is too small, -EINVAL for a
 * configuration it cannot describe).  Builders that emit physical
 * addresses take the guest-physical address at which the buffer will live
 * (`phys`), so a host test can build into malloc()ed memory and still get
 * the addresses the guest would see.
 *
 * Guest memory layout (the regions of Xen's layout; see doc/hvmloader.md):
 *
 *   0x00000000-0x0009EFFF  RAM
 *   0x0009F000-0x0009FFFF  reserved: hvm_info_table at 0x9F800, EBDA
 *   0x00090000             E820 copy at HVM_E820_PAGE (+NR/+OFFSET)
 *   0x000E0000-0x000FFFFF  reserved BIOS area:
 *       0xE8000  MP configuration table      (HVM_MP_TABLE_ADDR)
 *       0xEB000  SMBIOS structure table      (HVM_SMBIOS_ADDR, to 0xF0000)
 *       0xF0000  RSDP, 0xF0040 _SM3_, 0xF0060 _SM_, 0xF0080 _MP_
 *   0x00100000-acpi_base   RAM
 *   acpi_base  (+4 KiB)    ACPI NVS: FACS
 *              (to low_mem_end) ACPI reclaim: RSDT XSDT FADTs DSDT SSDT MADT HPET WAET
 *   low_mem_end-mmio_start unused
 *   mmio_start-mmio_end    PCI MMIO hole (BARs, largest first)
 *   0xFC000000-0xFFFFFFFF  reserved (RESERVED_MEMBASE: IOAPIC, HPET, LAPIC, ROM)
 *   4 GiB-high_mem_end     RAM; 64-bit BARs above it when the hole is full
 */
#ifndef HVM_H
#define HVM_H

#include <stddef.h>
#include <stdint.h>

#ifdef HVM_FREESTANDING
#define EINVAL  22
#define ENOSPC  28
#define ERANGE  34
#define ENOENT  2
#define EBADMSG 74
#else
#include <errno.h>
#endif

#include "hvm_abi.h"

#define HVM_MAX_VCPU 128 /* = HVM_MAX_VCPUS of hvm_info_table.h */

#define HVM_MP_TABLE_ADDR      0x000E8000u
#define HVM_MP_TABLE_MAX       0x00003000u
#define HVM_SMBIOS_ADDR        0x000EB000u
#define HVM_SMBIOS_MAX         0x00005000u
#define HVM_RSDP_ADDR          0x000F0000u
#define HVM_SMBIOS3_EP_ADDR    0x000F0040u
#define HVM_SMBIOS21_EP_ADDR   0x000F0060u
#define HVM_MP_FLOAT_ADDR      0x000F0080u
#define HVM_BIOS_AREA_START    0x000E0000u
#define HVM_BIOS_AREA_END      0x00100000u
#define HVM_LOWRAM_END         0x0009F000u /* hvm_info page and EBDA above */
#define HVM_ACPI_AREA_SIZE     0x00010000u /* 64 KiB at the top of low RAM */
#define HVM_ACPI_NVS_SIZE      0x00001000u /* FACS page */
#define HVM_RESERVED_MEMBASE   0xFC000000u
#define HVM_MMIO_DEFAULT_START 0xF0000000u /* HVM_BELOW_4G_MMIO_START */
#define HVM_IO_START           0xC000u
#define HVM_IO_END             0x10000u

#define HVM_LAPIC_ADDR  0xFEE00000u
#define HVM_IOAPIC_ADDR 0xFEC00000u
#define HVM_HPET_ADDR   0xFED00000u
#define HVM_HPET_ID_DEFAULT                                                    \
	0x8086A201u /* vendor 8086, 3 timers, 64-bit, legacy */

/* PIIX4 PM and GPE blocks (I/O ports) */
#define HVM_PM1A_EVT_BLK 0xB000u
#define HVM_PM1A_CNT_BLK 0xB004u
#define HVM_PM_TMR_BLK   0xB008u
#define HVM_GPE0_BLK     0xAFE0u
#define HVM_SCI_IRQ      9
#define HVM_RESET_PORT   0xCF9u
#define HVM_RESET_VALUE  0x06

#define HVM_NR_PCI_LINKS 4

/* PCI INTx routing on the PIIX3: device `slot`, pin 0..3 (INTA..INTD) uses
 * PIRQ link (slot - 1 + pin) & 3.  dsdt.asl's _PRT follows the same rule. */
#define HVM_PCI_LINK(slot, pin) ((unsigned int)((slot) + (pin) + 3) & 3u)

/*
 * Everything the builders need to know about the guest.  Fill it with
 * hvm_config_init() and adjust.
 */
struct hvm_config {
	unsigned int nr_vcpus;       /* 1..HVM_MAX_VCPU */
	unsigned int apic_id_stride; /* LAPIC ID = vcpu * stride (Xen: 2) */
	uint8_t ioapic_id;
	uint8_t ioapic_version;                 /* 0x11 */
	uint8_t lapic_version;                  /* 0x14 */
	uint8_t pci_link_irq[HVM_NR_PCI_LINKS]; /* PIRQA..D -> ISA IRQ */

	uint64_t low_mem_end;  /* RAM [0, low_mem_end) minus holes */
	uint64_t high_mem_end; /* RAM [4 GiB, high_mem_end), 0 if none */
	uint32_t mmio_start;   /* PCI hole [mmio_start, mmio_end) */
	uint32_t mmio_end;
	uint64_t mmio64_start; /* 64-bit BARs [start, start+size) */
	uint64_t mmio64_size;  /* 0: none placed high */
	uint32_t acpi_base;    /* ACPI area [acpi_base, low_mem_end) */

	uint32_t hpet_id;       /* HPET capabilities (event timer block id) */
	uint32_t cpu_signature; /* CPUID.1 EAX */
	uint32_t cpu_features;  /* CPUID.1 EDX */

	/* SMBIOS strings: never NULL after hvm_config_init() */
	const char *bios_vendor, *bios_version, *bios_date;
	const char *sys_manufacturer, *sys_product, *sys_version, *sys_serial;
	const char *sys_family, *sys_sku;
	const char *chassis_manufacturer, *chassis_serial, *chassis_asset;
	const char *cpu_manufacturer;
	const char *oem_strings[4]; /* type 11, NULL-terminated list */
	uint8_t uuid[16];           /* type 1, wire order of SMBIOS 2.6+ */
};

/*
 * Fill `cfg` for `vcpus` vCPUs and `mem` bytes of RAM, Xen's way: RAM below
 * 4 GiB up to HVM_MMIO_DEFAULT_START, the rest above 4 GiB, MMIO hole
 * [0xF0000000, RESERVED_MEMBASE), APIC IDs = 2 * vcpu, default strings.
 * Returns 0 or -EINVAL (vcpus out of 1..128, memory under 16 MiB).
 */
int hvm_config_init(struct hvm_config *cfg, unsigned int vcpus, uint64_t mem);

/*
 * Set the RAM layout: RAM below 4 GiB ends at `low`, above 4 GiB at `high`
 * (0: none).  Places the ACPI area at the top of low RAM and the MMIO hole
 * at [max(0xF0000000 lowered to fit, low), RESERVED_MEMBASE).
 * Returns 0 or -EINVAL.
 */
int hvm_config_set_memory(struct hvm_config *cfg, uint64_t low, uint64_t high);

/* LAPIC ID of vCPU `i` */
static inline unsigned int hvm_lapic_id(const struct hvm_config *cfg,
					unsigned int i)
{
	return i * cfg->apic_id_stride;
}

/* ---- checksum and small helpers (util.c) ---- */

/* 8-bit sum of `len` bytes; a valid table sums to 0. */
uint8_t hvm_sum8(const void *p, size_t len);

/* Value to store in a checksum byte so that `len` bytes sum to 0
 * (computed with the checksum byte itself counted as 0). */
uint8_t hvm_checksum(const void *p, size_t len);

/* strlen()/memcmp() for code that also runs freestanding */
size_t hvm_strlen(const char *s);
int hvm_memeq(const void *a, const void *b, size_t n);

/* ---- command line (cmdline.c) ---- */

/* What the command line asks for besides SMBIOS strings (0: not given). */
struct hvm_cmdline {
	unsigned int vcpus;
	unsigned int mem_mb;
	int dump, exit, halt;
};

/*
 * Apply a "key=value ..." command line: vcpus, mem, dump, exit, halt into
 * `opt`; uuid and the SMBIOS strings into `cfg`, the strings copied into
 * `pool` (cfg points there afterwards).  Returns 0, -EINVAL when a value
 * was malformed (it is ignored, the rest still applies) or -ENOSPC when
 * `pool` ran out (later strings keep their defaults).
 */
int hvm_cmdline_parse(const char *line, struct hvm_config *cfg,
		      struct hvm_cmdline *opt, char *pool, size_t poolsz);

/* "01234567-89ab-cdef-0123-456789abcdef" -> SMBIOS wire order; 0 or -EINVAL */
int hvm_parse_uuid(const char *v, size_t len, uint8_t out[16]);

/* ---- E820 (e820.c) ---- */

/*
 * Write the guest's E820 map: sorted by address, no overlaps.  Returns its
 * size in bytes (entries * 20) or -ENOSPC/-EINVAL.
 */
int hvm_e820_build(const struct hvm_config *cfg, struct hvm_e820_entry *out,
		   size_t len);

/* ---- ACPI (acpi.c, aml.c) ---- */

/* Addresses of what hvm_acpi_build() placed, for the RSDP and the dump. */
struct hvm_acpi_info {
	uint32_t rsdt, xsdt, facs, fadt1, fadt, dsdt, ssdt, madt, hpet, waet;
	uint32_t end; /* first byte after the last table */
};

/*
 * Build FACS (64-byte aligned, first), DSDT, SSDT, FADT rev 1 (RSDT) and
 * rev 6 (XSDT), MADT, HPET, WAET, RSDT and XSDT into `buf`, which lives at
 * guest-physical `phys`.  `dsdt`/`dsdt_len` is the iasl-compiled DSDT.
 * Returns the bytes used or -ENOSPC; fills `info` when not NULL.
 */
int hvm_acpi_build(const struct hvm_config *cfg, void *buf, size_t len,
		   uint32_t phys, const void *dsdt, size_t dsdt_len,
		   struct hvm_acpi_info *info);

/* Write an ACPI 2.0 RSDP pointing at `rsdt`/`xsdt`.  Returns 36 or -ENOSPC. */
int hvm_acpi_build_rsdp(void *buf, size_t len, uint32_t rsdt, uint32_t xsdt);

/*
 * Build the SSDT: processor devices \_SB.Cxxx (ACPI0007, _UID = vCPU) and
 * the PCI windows the DSDT's _CRS reads (\HVMA \HVMB \HVHA \HVHL).
 * Returns its size or -ENOSPC.
 */
int hvm_ssdt_build(const struct hvm_config *cfg, void *buf, size_t len);

/* The DSDT compiled from dsdt.asl at build time (dsdt_aml.c). */
extern const unsigned char hvm_dsdt_aml[];
extern const size_t hvm_dsdt_aml_len;

/* ---- SMBIOS (smbios.c) ---- */

struct hvm_smbios_info {
	uint32_t table_len; /* bytes of structures */
	uint16_t nr_structures;
	uint16_t max_struct_size;
};

/*
 * Build the SMBIOS structure table (types 0 1 3 4xN 11 16 17 19 20 32 127)
 * into `buf`, which lives at `phys`.  Returns its size or -ENOSPC.
 */
int hvm_smbios_build(const struct hvm_config *cfg, void *buf, size_t len,
		     uint32_t phys, struct hvm_smbios_info *info);

/* Write the SMBIOS 3.0 `_SM3_` entry point (24 bytes) for a table at `table`. */
int hvm_smbios_build_ep3(void *buf, size_t len, uint32_t table,
			 const struct hvm_smbios_info *info);

/* Write the SMBIOS 2.8 `_SM_` entry point (31 bytes) for a table at `table`. */
int hvm_smbios_build_ep21(void *buf, size_t len, uint32_t table,
			  const struct hvm_smbios_info *info);

/* ---- Intel MP 1.4 (mptable.c) ---- */

/*
 * Build the MP configuration table (processors, ISA and PCI buses, the
 * IOAPIC, ISA and PCI interrupt entries, LINT0/LINT1) into `buf`.
 * Returns its size, -ENOSPC, or -EINVAL for a single vCPU (no MP table).
 */
int hvm_mp_build(const struct hvm_config *cfg, void *buf, size_t len);

/* Write the 16-byte MP floating pointer for a configuration table at `table`. */
int hvm_mp_build_floating(void *buf, size_t len, uint32_t table);

/* ---- All tables (tables.c) ---- */

/*
 * Where hvm_tables_build() writes, and what it reports.  `bios` is the
 * guest's BIOS area (HVM_BIOS_AREA_START..HVM_BIOS_AREA_END) as the caller
 * addresses it, `acpi` the HVM_ACPI_AREA_SIZE bytes the guest sees at
 * cfg->acpi_base, `e820` room for the E820 map (`e820_size` bytes).
 */
struct hvm_tables {
	uint8_t *bios;
	uint8_t *acpi;
	struct hvm_e820_entry *e820;
	size_t e820_size;
	/* out */
	int e820_len; /* bytes of E820 entries */
	int mp_len;   /* bytes of MP table, 0 for one vCPU */
	struct hvm_acpi_info acpi_info;
	struct hvm_smbios_info smbios;
};

/*
 * Zero both areas and build every table: E820, ACPI + RSDP, SMBIOS + its
 * 3.0 and 2.1 entry points, and with more than one vCPU the MP table +
 * floating pointer, each at its address of the layout above.  Returns 0
 * or the first builder's -errno.
 */
int hvm_tables_build(const struct hvm_config *cfg, struct hvm_tables *t);

/* ---- PCI BAR allocation (pci_alloc.c) ---- */

#define HVM_BAR_IO   0x1 /* I/O space */
#define HVM_BAR_64   0x2 /* 64-bit memory BAR */
#define HVM_BAR_PREF 0x4 /* prefetchable */
#define HVM_BAR_ROM  0x8 /* expansion ROM BAR */

struct hvm_bar {
	uint8_t bus, devfn;
	uint8_t index; /* 0..5, 6 = ROM */
	uint8_t flags; /* HVM_BAR_* */
	uint64_t size; /* power of two */
	uint64_t base; /* output */
};

/*
 * Assign every BAR in `bars`: I/O from 0xC000 upwards, memory largest first
 * from cfg->mmio_start (naturally aligned) below cfg->mmio_end; 64-bit BARs
 * that do not fit go above 4 GiB at cfg->mmio64_start.  Returns 0, -ENOSPC
 * when something cannot be placed, -EINVAL for a size that is not a power
 * of two.  On success cfg->mmio64_size covers what was placed high.
 */
int hvm_pci_allocate(struct hvm_config *cfg, struct hvm_bar *bars, size_t n);

/* ---- checkers (verify.c): 0 when valid, else -EBADMSG and a reason ---- */

/* Check one ACPI table: length fits `len`, checksum, signature printable. */
int hvm_acpi_verify(const void *table, size_t len, const char **why);

/*
 * Check an SMBIOS structure table against its entry point values: every
 * structure's formatted length and string set fit, the count and total
 * length match, exactly one type 127 at the end.  Counts structures of
 * `type` into *count_of_type when not NULL.
 */
int hvm_smbios_verify(const void *table, size_t len, unsigned int nr_structures,
		      int type, unsigned int *count_of_type, const char **why);

/* What hvm_mp_verify() found. */
struct hvm_mp_summary {
	unsigned int processors, buses, ioapics, iointrs, localintrs;
	unsigned int bsp_count;
};

/*
 * Check an MP configuration table: signature, base checksum, extended
 * table checksum, entry_count matches the entries walked, entry types
 * valid, APIC IDs unique across processors and IOAPICs, every interrupt
 * entry names a declared bus and IOAPIC, exactly one BSP.
 */
int hvm_mp_verify(const void *table, size_t len, struct hvm_mp_summary *sum,
		  const char **why);

/* Check an MP floating pointer (signature, length 1, checksum, rev 1/4). */
int hvm_mp_verify_floating(const void *fp, const char **why);

/* Check an E820 map: sorted, non-empty entries, no overlaps, known types. */
int hvm_e820_verify(const struct hvm_e820_entry *e, size_t n, const char **why);

#endif /* HVM_H */
