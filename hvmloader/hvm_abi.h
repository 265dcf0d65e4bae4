/*
 * hvm_abi.h - byte layouts of the firmware tables hvmloader writes: E820,
 * ACPI (6.3), SMBIOS (2.8 / 3.x entry points) and Intel MP 1.4.  Every
 * structure is packed and its size is asserted against the specification.
 *
 * Included by the host library, the host tools and the freestanding image;
 * needs nothing but <stdint.h>.
 */
#ifndef HVM_ABI_H
#define HVM_ABI_H

#include <stdint.h>

#define HVM_PACKED __attribute__((packed))

/* ---- E820 (ACPI "Address Range Descriptor", 20-byte legacy form) ---- */
#define HVM_E820_RAM      1
#define HVM_E820_RESERVED 2
#define HVM_E820_ACPI     3
#define HVM_E820_NVS      4

struct hvm_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_e820_entry) == 20, "e820 entry is 20 bytes");

/* ---- ACPI -------------------------------------------------------------- */
struct hvm_acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;  /* first 20 bytes */
	char oem_id[6];
	uint8_t revision; /* 2: ACPI 2.0+ */
	uint32_t rsdt_address;
	uint32_t length; /* 36 */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* all 36 bytes */
	uint8_t reserved[3];
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_acpi_rsdp) == 36, "RSDP is 36 bytes");

struct hvm_acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_acpi_header) == 36, "ACPI header is 36 bytes");

/* Generic Address Structure */
struct hvm_acpi_gas {
	uint8_t space_id; /* 0 memory, 1 system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 1 byte .. 4 qword */
	uint64_t address;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_acpi_gas) == 12, "GAS is 12 bytes");

#define HVM_ACPI_SPACE_MEM 0
#define HVM_ACPI_SPACE_IO  1

/* FADT, ACPI 6.3 layout (revision 6).  A revision-1 FADT is its first
 * 116 bytes. */
struct hvm_acpi_fadt {
	struct hvm_acpi_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t int_model; /* reserved after ACPI 1.0 */
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	/* ---- end of revision 1 (116 bytes) ---- */
	struct hvm_acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct hvm_acpi_gas x_pm1a_evt_blk;
	struct hvm_acpi_gas x_pm1b_evt_blk;
	struct hvm_acpi_gas x_pm1a_cnt_blk;
	struct hvm_acpi_gas x_pm1b_cnt_blk;
	struct hvm_acpi_gas x_pm2_cnt_blk;
	struct hvm_acpi_gas x_pm_tmr_blk;
	struct hvm_acpi_gas x_gpe0_blk;
	struct hvm_acpi_gas x_gpe1_blk;
	/* ---- end of revision 4 (244 bytes) ---- */
	struct hvm_acpi_gas sleep_control_reg;
	struct hvm_acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_acpi_fadt) == 276, "FADT rev 6 is 276 bytes");
_Static_assert(__builtin_offsetof(struct hvm_acpi_fadt, reset_reg) == 116,
	       "FADT rev 1 ends at 116");
_Static_assert(__builtin_offsetof(struct hvm_acpi_fadt, x_firmware_ctrl) == 132,
	       "X_FIRMWARE_CTRL at 132");
_Static_assert(__builtin_offsetof(struct hvm_acpi_fadt, sleep_control_reg) ==
		       244,
	       "FADT rev 4 ends at 244");

#define HVM_FADT_REV1_LEN 116

#define HVM_FADT_F_WBINVD        (1u << 0)
#define HVM_FADT_F_PROC_C1       (1u << 2)
#define HVM_FADT_F_SLP_BUTTON    (1u << 5)
#define HVM_FADT_F_RTC_S4        (1u << 7)
#define HVM_FADT_F_RESET_REG_SUP (1u << 10)

#define HVM_FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define HVM_FADT_BOOT_8042           (1u << 1)

struct hvm_acpi_facs {
	char signature[4]; /* "FACS" */
	uint32_t length;   /* 64 */
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version; /* 2 */
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_acpi_facs) == 64, "FACS is 64 bytes");

struct hvm_acpi_madt {
	struct hvm_acpi_header header;
	uint32_t lapic_addr;
	uint32_t flags; /* bit 0: PCAT_COMPAT (dual 8259) */
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_acpi_madt) == 44, "MADT header is 44 bytes");

#define HVM_MADT_LAPIC     0
#define HVM_MADT_IOAPIC    1
#define HVM_MADT_ISO       2
#define HVM_MADT_LAPIC_NMI 4

struct hvm_madt_lapic {
	uint8_t type, length; /* 0, 8 */
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags; /* bit 0: enabled */
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_madt_lapic) == 8, "MADT LAPIC is 8 bytes");

struct hvm_madt_ioapic {
	uint8_t type, length; /* 1, 12 */
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_madt_ioapic) == 12, "MADT IOAPIC is 12 bytes");

struct hvm_madt_iso {
	uint8_t type, length; /* 2, 10 */
	uint8_t bus;          /* 0: ISA */
	uint8_t source;       /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags */
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_madt_iso) == 10, "MADT ISO is 10 bytes");

struct hvm_madt_lapic_nmi {
	uint8_t type, length;  /* 4, 6 */
	uint8_t processor_uid; /* 0xFF: all */
	uint16_t flags;
	uint8_t lint;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_madt_lapic_nmi) == 6,
	       "MADT LAPIC NMI is 6 bytes");

/* MPS INTI flags (MADT ISO, MP interrupt entries) */
#define HVM_INTI_POLARITY_HIGH 0x1
#define HVM_INTI_POLARITY_LOW  0x3
#define HVM_INTI_TRIGGER_EDGE  (0x1 << 2)
#define HVM_INTI_TRIGGER_LEVEL (0x3 << 2)

struct hvm_acpi_hpet {
	struct hvm_acpi_header header;
	uint32_t event_timer_block_id;
	struct hvm_acpi_gas address;
	uint8_t hpet_number;
	uint16_t min_clock_tick;
	uint8_t page_protection;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_acpi_hpet) == 56, "HPET is 56 bytes");

struct hvm_acpi_waet {
	struct hvm_acpi_header header;
	uint32_t flags; /* bit 0 RTC good, bit 1 PM timer good */
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_acpi_waet) == 40, "WAET is 40 bytes");

/* ---- SMBIOS ------------------------------------------------------------- */
struct hvm_smbios21_ep {
	char anchor[4]; /* "_SM_" */
	uint8_t checksum;
	uint8_t length; /* 0x1F */
	uint8_t major, minor;
	uint16_t max_struct_size;
	uint8_t revision;
	uint8_t formatted[5];
	char intermediate_anchor[5]; /* "_DMI_" */
	uint8_t intermediate_checksum;
	uint16_t table_length;
	uint32_t table_address;
	uint16_t nr_structures;
	uint8_t bcd_revision;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_smbios21_ep) == 31,
	       "_SM_ entry point is 31 bytes");

struct hvm_smbios3_ep {
	char anchor[5]; /* "_SM3_" */
	uint8_t checksum;
	uint8_t length; /* 0x18 */
	uint8_t major, minor, docrev;
	uint8_t revision; /* 1 */
	uint8_t reserved;
	uint32_t max_table_size;
	uint64_t table_address;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_smbios3_ep) == 24,
	       "_SM3_ entry point is 24 bytes");

struct hvm_smbios_hdr {
	uint8_t type;
	uint8_t length;
	uint16_t handle;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_smbios_hdr) == 4, "SMBIOS header is 4 bytes");

/* ---- Intel MP 1.4 --------------------------------------------------------- */
struct hvm_mp_floating {
	char signature[4]; /* "_MP_" */
	uint32_t config_table;
	uint8_t length;   /* in 16-byte units: 1 */
	uint8_t spec_rev; /* 4 */
	uint8_t checksum;
	uint8_t feature[5];
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_mp_floating) == 16,
	       "MP floating pointer is 16 bytes");

struct hvm_mp_config {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* base table */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_mp_config) == 44,
	       "MP config header is 44 bytes");

#define HVM_MP_PROCESSOR 0
#define HVM_MP_BUS       1
#define HVM_MP_IOAPIC    2
#define HVM_MP_IOINTR    3
#define HVM_MP_LOCALINTR 4

struct hvm_mp_processor {
	uint8_t type;
	uint8_t lapic_id;
	uint8_t lapic_version;
	uint8_t cpu_flags; /* bit 0 enabled, bit 1 BSP */
	uint32_t cpu_signature;
	uint32_t feature_flags;
	uint32_t reserved[2];
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_mp_processor) == 20,
	       "MP processor entry is 20 bytes");

struct hvm_mp_bus {
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_mp_bus) == 8, "MP bus entry is 8 bytes");

struct hvm_mp_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags; /* bit 0 usable */
	uint32_t address;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_mp_ioapic) == 8, "MP IOAPIC entry is 8 bytes");

struct hvm_mp_intr {
	uint8_t type;     /* 3 I/O, 4 local */
	uint8_t irq_type; /* 0 INT, 1 NMI, 2 SMI, 3 ExtINT */
	uint16_t flags;   /* INTI polarity/trigger */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic; /* 0xFF: all local APICs */
	uint8_t dst_intin;
} HVM_PACKED;
_Static_assert(sizeof(struct hvm_mp_intr) == 8, "MP interrupt entry is 8 bytes");

#define HVM_MP_INT    0
#define HVM_MP_NMI    1
#define HVM_MP_EXTINT 3

#endif /* HVM_ABI_H */
