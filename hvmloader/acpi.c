/*
 * acpi.c - ACPI tables (ACPI 6.3): RSDP, RSDT, XSDT, FADT rev 1 (for the
 * RSDT, ACPI 1.0 readers) and rev 6 (for the XSDT), FACS, MADT, HPET, WAET,
 * plus the iasl-compiled DSDT and the generated SSDT (aml.c).
 *
 * Placement inside the caller's area (guest-physical `phys`):
 *   +0x0000  FACS (64-byte aligned; this first page is E820 NVS)
 *   +0x1000  DSDT SSDT FADT1 FADT MADT HPET WAET RSDT XSDT, 16-byte aligned
 */
#include "hvm.h"

#define HVM_OEM_ID       "SPLDRV"
#define HVM_OEM_TABLE_ID "HVM     "
#define HVM_CREATOR_ID   "SPDR"

struct acpi_buf {
	uint8_t *base;
	size_t len, pos;
	uint32_t phys;
};

static void *acpi_alloc(struct acpi_buf *b, size_t size, size_t align,
			uint32_t *phys)
{
	size_t pos = (b->pos + align - 1) & ~(align - 1);
	void *p;

	if (pos > b->len || size > b->len - pos)
		return 0;
	p = b->base + pos;
	__builtin_memset(p, 0, size);
	*phys = b->phys + (uint32_t)pos;
	b->pos = pos + size;
	return p;
}

static void acpi_header(struct hvm_acpi_header *h, const char *sig,
			uint32_t len, uint8_t rev)
{
	__builtin_memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	__builtin_memcpy(h->oem_id, HVM_OEM_ID, 6);
	__builtin_memcpy(h->oem_table_id, HVM_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	__builtin_memcpy(h->creator_id, HVM_CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void acpi_finish(struct hvm_acpi_header *h)
{
	h->checksum = 0;
	h->checksum = hvm_checksum(h, h->length);
}

static struct hvm_acpi_gas acpi_io_gas(uint32_t port, uint8_t bits,
				       uint8_t access)
{
	struct hvm_acpi_gas g = {
		.space_id = HVM_ACPI_SPACE_IO,
		.bit_width = bits,
		.bit_offset = 0,
		.access_size = access,
		.address = port,
	};
	return g;
}

static void fadt_fill(struct hvm_acpi_fadt *f, uint32_t facs, uint32_t dsdt,
		      int rev)
{
	f->firmware_ctrl = facs;
	f->dsdt = dsdt;
	f->int_model = rev == 1 ? 1 : 0;
	f->sci_int = HVM_SCI_IRQ;
	f->smi_cmd = 0; /* no SMI: the firmware sets SCI_EN itself */
	f->pm1a_evt_blk = HVM_PM1A_EVT_BLK;
	f->pm1a_cnt_blk = HVM_PM1A_CNT_BLK;
	f->pm_tmr_blk = HVM_PM_TMR_BLK;
	f->gpe0_blk = HVM_GPE0_BLK;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->gpe0_blk_len = 4;
	f->p_lvl2_lat = 101;  /* > 100: C2 not supported */
	f->p_lvl3_lat = 1001; /* > 1000: C3 not supported */
	f->century = 0x32;
	f->flags = HVM_FADT_F_WBINVD | HVM_FADT_F_PROC_C1 |
		   HVM_FADT_F_SLP_BUTTON | HVM_FADT_F_RTC_S4;
	if (rev == 1)
		return;
	f->iapc_boot_arch = HVM_FADT_BOOT_LEGACY_DEVICES | HVM_FADT_BOOT_8042;
	f->flags |= HVM_FADT_F_RESET_REG_SUP;
	f->reset_reg = acpi_io_gas(HVM_RESET_PORT, 8, 1);
	f->reset_value = HVM_RESET_VALUE;
	f->minor_version = 3;
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->x_pm1a_evt_blk = acpi_io_gas(HVM_PM1A_EVT_BLK, 32, 2);
	f->x_pm1a_cnt_blk = acpi_io_gas(HVM_PM1A_CNT_BLK, 16, 2);
	f->x_pm_tmr_blk = acpi_io_gas(HVM_PM_TMR_BLK, 32, 3);
	f->x_gpe0_blk = acpi_io_gas(HVM_GPE0_BLK, 32, 1);
}

static int madt_build(const struct hvm_config *cfg, struct acpi_buf *b,
		      uint32_t *phys)
{
	unsigned int i, j, nr_iso = 2;
	uint8_t irqs[HVM_NR_PCI_LINKS];
	unsigned int nr_irqs = 0;
	struct hvm_acpi_madt *m;
	struct hvm_madt_lapic *l;
	struct hvm_madt_ioapic *io;
	struct hvm_madt_iso *iso;
	struct hvm_madt_lapic_nmi *nmi;
	size_t size;

	/* the distinct PCI link IRQs (not 0, 2 or the SCI, which have their own) */
	for (i = 0; i < HVM_NR_PCI_LINKS; i++) {
		uint8_t irq = cfg->pci_link_irq[i];

		if (irq == 0 || irq == 2 || irq == HVM_SCI_IRQ || irq > 15)
			continue;
		for (j = 0; j < nr_irqs && irqs[j] != irq; j++)
			;
		if (j == nr_irqs)
			irqs[nr_irqs++] = irq;
	}
	nr_iso += nr_irqs;
	size = sizeof(*m) + cfg->nr_vcpus * sizeof(*l) + sizeof(*io) +
	       nr_iso * sizeof(*iso) + sizeof(*nmi);
	m = acpi_alloc(b, size, 16, phys);
	if (!m)
		return -ENOSPC;
	acpi_header(&m->header, "APIC", (uint32_t)size, 5);
	m->lapic_addr = HVM_LAPIC_ADDR;
	m->flags = 1; /* PCAT_COMPAT: dual 8259 present */

	l = (struct hvm_madt_lapic *)(m + 1);
	for (i = 0; i < cfg->nr_vcpus; i++, l++) {
		l->type = HVM_MADT_LAPIC;
		l->length = sizeof(*l);
		l->processor_uid = (uint8_t)i;
		l->apic_id = (uint8_t)hvm_lapic_id(cfg, i);
		l->flags = 1;
	}
	io = (struct hvm_madt_ioapic *)l;
	io->type = HVM_MADT_IOAPIC;
	io->length = sizeof(*io);
	io->ioapic_id = cfg->ioapic_id;
	io->address = HVM_IOAPIC_ADDR;
	io->gsi_base = 0;

	iso = (struct hvm_madt_iso *)(io + 1);
	iso->type = HVM_MADT_ISO; /* PIT: IRQ0 -> GSI2 */
	iso->length = sizeof(*iso);
	iso->source = 0;
	iso->gsi = 2;
	iso->flags = 0;
	iso++;
	iso->type = HVM_MADT_ISO; /* SCI: level, active high */
	iso->length = sizeof(*iso);
	iso->source = HVM_SCI_IRQ;
	iso->gsi = HVM_SCI_IRQ;
	iso->flags = HVM_INTI_POLARITY_HIGH | HVM_INTI_TRIGGER_LEVEL;
	iso++;
	for (i = 0; i < nr_irqs; i++, iso++) {
		iso->type = HVM_MADT_ISO; /* PCI links: level, active low */
		iso->length = sizeof(*iso);
		iso->source = irqs[i];
		iso->gsi = irqs[i];
		iso->flags = HVM_INTI_POLARITY_LOW | HVM_INTI_TRIGGER_LEVEL;
	}
	nmi = (struct hvm_madt_lapic_nmi *)iso;
	nmi->type = HVM_MADT_LAPIC_NMI;
	nmi->length = sizeof(*nmi);
	nmi->processor_uid = 0xFF;
	nmi->flags = 0;
	nmi->lint = 1;
	acpi_finish(&m->header);
	return 0;
}

/* All tables but the RSDP into `buf` at `phys`; bytes used or -errno (see hvm.h). */
int hvm_acpi_build(const struct hvm_config *cfg, void *buf, size_t len,
		   uint32_t phys, const void *dsdt, size_t dsdt_len,
		   struct hvm_acpi_info *info)
{
	struct acpi_buf b = { .base = buf, .len = len, .pos = 0, .phys = phys };
	struct hvm_acpi_info in = { 0 };
	struct hvm_acpi_facs *facs;
	struct hvm_acpi_fadt *f1, *f;
	struct hvm_acpi_hpet *hpet;
	struct hvm_acpi_waet *waet;
	struct hvm_acpi_header *rsdt, *xsdt;
	uint32_t *rsdt_e;
	uint64_t xsdt_e[5];
	uint8_t *p;
	int n, i;

	if ((phys & 63) || len < HVM_ACPI_NVS_SIZE || !dsdt ||
	    dsdt_len < sizeof(struct hvm_acpi_header) || cfg->nr_vcpus < 1 ||
	    cfg->nr_vcpus > HVM_MAX_VCPU)
		return -EINVAL;

	facs = acpi_alloc(&b, sizeof(*facs), 64, &in.facs);
	if (!facs)
		return -ENOSPC;
	__builtin_memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;
	b.pos = HVM_ACPI_NVS_SIZE;

	p = acpi_alloc(&b, dsdt_len, 16, &in.dsdt);
	if (!p)
		return -ENOSPC;
	__builtin_memcpy(p, dsdt, dsdt_len);

	p = acpi_alloc(&b, 0, 16, &in.ssdt);
	if (!p)
		return -ENOSPC;
	n = hvm_ssdt_build(cfg, p, b.len - b.pos);
	if (n < 0)
		return n;
	b.pos += (size_t)n;

	f1 = acpi_alloc(&b, HVM_FADT_REV1_LEN, 16, &in.fadt1);
	if (!f1)
		return -ENOSPC;
	acpi_header(&f1->header, "FACP", HVM_FADT_REV1_LEN, 1);
	fadt_fill(f1, in.facs, in.dsdt, 1);
	acpi_finish(&f1->header);

	f = acpi_alloc(&b, sizeof(*f), 16, &in.fadt);
	if (!f)
		return -ENOSPC;
	acpi_header(&f->header, "FACP", sizeof(*f), 6);
	fadt_fill(f, in.facs, in.dsdt, 6);
	acpi_finish(&f->header);

	n = madt_build(cfg, &b, &in.madt);
	if (n < 0)
		return n;

	hpet = acpi_alloc(&b, sizeof(*hpet), 16, &in.hpet);
	if (!hpet)
		return -ENOSPC;
	acpi_header(&hpet->header, "HPET", sizeof(*hpet), 1);
	hpet->event_timer_block_id = cfg->hpet_id;
	hpet->address.space_id = HVM_ACPI_SPACE_MEM;
	hpet->address.address = HVM_HPET_ADDR;
	hpet->hpet_number = 0;
	hpet->min_clock_tick = 0x80;
	hpet->page_protection = 0;
	acpi_finish(&hpet->header);

	waet = acpi_alloc(&b, sizeof(*waet), 16, &in.waet);
	if (!waet)
		return -ENOSPC;
	acpi_header(&waet->header, "WAET", sizeof(*waet), 1);
	waet->flags = 0x3; /* RTC and PM timer need no workarounds */
	acpi_finish(&waet->header);

	/* RSDT lists the rev-1 FADT, XSDT the rev-6 one; the rest is shared */
	xsdt_e[0] = in.fadt;
	xsdt_e[1] = in.ssdt;
	xsdt_e[2] = in.madt;
	xsdt_e[3] = in.hpet;
	xsdt_e[4] = in.waet;
	rsdt = acpi_alloc(&b, sizeof(*rsdt) + 5 * 4, 16, &in.rsdt);
	if (!rsdt)
		return -ENOSPC;
	acpi_header(rsdt, "RSDT", sizeof(*rsdt) + 5 * 4, 1);
	rsdt_e = (uint32_t *)(rsdt + 1);
	rsdt_e[0] = in.fadt1;
	for (i = 1; i < 5; i++)
		rsdt_e[i] = (uint32_t)xsdt_e[i];
	acpi_finish(rsdt);

	xsdt = acpi_alloc(&b, sizeof(*xsdt) + sizeof(xsdt_e), 16, &in.xsdt);
	if (!xsdt)
		return -ENOSPC;
	acpi_header(xsdt, "XSDT", sizeof(*xsdt) + sizeof(xsdt_e), 1);
	__builtin_memcpy(xsdt + 1, xsdt_e, sizeof(xsdt_e));
	acpi_finish(xsdt);

	in.end = b.phys + (uint32_t)b.pos;
	if (info)
		*info = in;
	return (int)b.pos;
}

/* ACPI 2.0 RSDP, both checksums; 36 or -ENOSPC. */
int hvm_acpi_build_rsdp(void *buf, size_t len, uint32_t rsdt, uint32_t xsdt)
{
	struct hvm_acpi_rsdp *r = buf;

	if (len < sizeof(*r))
		return -ENOSPC;
	__builtin_memset(r, 0, sizeof(*r));
	__builtin_memcpy(r->signature, "RSD PTR ", 8);
	__builtin_memcpy(r->oem_id, HVM_OEM_ID, 6);
	r->revision = 2;
	r->rsdt_address = rsdt;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = hvm_checksum(r, 20);
	r->extended_checksum = hvm_checksum(r, sizeof(*r));
	return sizeof(*r);
}
