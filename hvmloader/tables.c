/*
 * tables.c - every table the guest gets, built in one place: the E820 map,
 * ACPI (+ RSDP), SMBIOS (+ both entry points) and, with more than one
 * vCPU, the MP table (+ floating pointer). The firmware (fw/main.c) builds
 * them into guest memory, hvmdump's `build` into host buffers; both call
 * hvm_tables_build().
 */
#include "hvm.h"

/* where guest-physical addr of the BIOS area is in t->bios */
#define BIOS_AT(t, addr) ((t)->bios + ((addr)-HVM_BIOS_AREA_START))

int hvm_tables_build(const struct hvm_config *cfg, struct hvm_tables *t)
{
	int rc;

	/* the BIOS area is ours: no stale tables of an earlier BIOS in it */
	__builtin_memset(t->bios, 0, HVM_BIOS_AREA_END - HVM_BIOS_AREA_START);
	__builtin_memset(t->acpi, 0, HVM_ACPI_AREA_SIZE);
	t->mp_len = 0;

	t->e820_len = hvm_e820_build(cfg, t->e820, t->e820_size);
	if (t->e820_len < 0)
		return t->e820_len;

	rc = hvm_acpi_build(cfg, t->acpi, HVM_ACPI_AREA_SIZE, cfg->acpi_base,
			    hvm_dsdt_aml, hvm_dsdt_aml_len, &t->acpi_info);
	if (rc < 0)
		return rc;
	rc = hvm_acpi_build_rsdp(BIOS_AT(t, HVM_RSDP_ADDR),
				 HVM_SMBIOS3_EP_ADDR - HVM_RSDP_ADDR,
				 t->acpi_info.rsdt, t->acpi_info.xsdt);
	if (rc < 0)
		return rc;

	rc = hvm_smbios_build(cfg, BIOS_AT(t, HVM_SMBIOS_ADDR), HVM_SMBIOS_MAX,
			      HVM_SMBIOS_ADDR, &t->smbios);
	if (rc < 0)
		return rc;
	rc = hvm_smbios_build_ep3(BIOS_AT(t, HVM_SMBIOS3_EP_ADDR),
				  HVM_SMBIOS21_EP_ADDR - HVM_SMBIOS3_EP_ADDR,
				  HVM_SMBIOS_ADDR, &t->smbios);
	if (rc < 0)
		return rc;
	rc = hvm_smbios_build_ep21(BIOS_AT(t, HVM_SMBIOS21_EP_ADDR),
				   HVM_MP_FLOAT_ADDR - HVM_SMBIOS21_EP_ADDR,
				   HVM_SMBIOS_ADDR, &t->smbios);
	if (rc < 0)
		return rc;

	if (cfg->nr_vcpus > 1) {
		t->mp_len = hvm_mp_build(cfg, BIOS_AT(t, HVM_MP_TABLE_ADDR),
					 HVM_MP_TABLE_MAX);
		if (t->mp_len < 0)
			return t->mp_len;
		rc = hvm_mp_build_floating(BIOS_AT(t, HVM_MP_FLOAT_ADDR), 16,
					   HVM_MP_TABLE_ADDR);
		if (rc < 0)
			return rc;
	}
	return 0;
}
