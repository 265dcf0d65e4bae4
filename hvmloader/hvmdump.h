/*
 * hvmdump.h - the test-mode stream the firmware writes to HVM_DUMP_PORT.
 *
 * A sequence of records, each a 20-byte header and `len` bytes read back
 * from guest memory at `addr` (so the stream shows what the firmware
 * really wrote), ending with a record named "END" of length 0:
 *
 *   "RSDP" "RSDT" "XSDT" "FACP1" (rev 1) "FACP" (rev 6) "FACS" "DSDT"
 *   "SSDT" "APIC" "HPET" "WAET"  ACPI tables
 *   "SMBIOS"   structure table    "SM3EP" "SM21EP"  its entry points
 *   "MP" "MPFP"  MP config table and floating pointer (> 1 vCPU)
 *   "E820"     the map (struct hvm_e820_entry[])
 *   "BARS"     struct hvm_dump_bar[] as assigned
 *   "CONFIG"   struct hvm_dump_config
 *   "MEM"      guest memory at addr (several: BDA, EBDA page, BIOS area);
 *              hvmdump split assembles them into a 1 MiB LOWMEM image
 */
#ifndef HVM_DUMP_H
#define HVM_DUMP_H

#include <stdint.h>

struct hvm_dump_rec {
	char magic[4]; /* "HVMD" */
	char name[8];  /* NUL-padded */
	uint32_t addr;
	uint32_t len;
} __attribute__((packed));
_Static_assert(sizeof(struct hvm_dump_rec) == 20,
	       "dump record header is 20 bytes");

struct hvm_dump_bar {
	uint8_t bus, devfn, index, flags;
	uint16_t vendor, device;
	uint64_t base;
	uint64_t size;
} __attribute__((packed));
_Static_assert(sizeof(struct hvm_dump_bar) == 24, "dump BAR is 24 bytes");

struct hvm_dump_config {
	uint32_t nr_vcpus;
	uint32_t apic_id_stride;
	uint64_t low_mem_end;
	uint64_t high_mem_end;
	uint32_t mmio_start, mmio_end;
	uint64_t mmio64_start, mmio64_size;
	uint32_t acpi_base;
	uint32_t source;  /* 1 hvm_info_table, 2 CMOS/command line */
	uint32_t boot_us; /* entry to tables written, by the TSC, 0 if unknown */
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct hvm_dump_config) == 64, "dump config is 64 bytes");

#endif /* HVM_DUMP_H */
