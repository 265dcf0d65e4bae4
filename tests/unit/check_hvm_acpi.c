/* check_hvm_acpi.c - ACPI builders: RSDP, RSDT/XSDT, FADTs, FACS, MADT, HPET, WAET, SSDT */
#include <string.h>

#include "check_main.h"
#include "check_hvm_common.h"

#define AREA 0x10000

struct built {
	struct hvm_config cfg;
	uint8_t *buf;
	struct hvm_acpi_info info;
	int len;
};

static void build(struct built *b, int i)
{
	hvm_test_config(&b->cfg, i);
	b->buf = calloc(1, AREA);
	ck_assert_ptr_nonnull(b->buf);
	b->len = hvm_acpi_build(&b->cfg, b->buf, AREA, b->cfg.acpi_base,
				hvm_dsdt_aml, hvm_dsdt_aml_len, &b->info);
	ck_assert_int_gt(b->len, 0);
	ck_assert_uint_eq(b->info.end, b->cfg.acpi_base + (uint32_t)b->len);
}

/* the table at guest address `addr` */
static void *at(struct built *b, uint64_t addr)
{
	ck_assert_uint_ge(addr, b->cfg.acpi_base);
	ck_assert_uint_lt(addr, b->cfg.acpi_base + (uint64_t)b->len);
	return b->buf + (addr - b->cfg.acpi_base);
}

static void verify(struct built *b, uint64_t addr, const char *sig)
{
	struct hvm_acpi_header *h = at(b, addr);
	const char *why = NULL;

	ck_assert_msg(hvm_acpi_verify(h,
				      (size_t)(b->buf + b->len - (uint8_t *)h),
				      &why) == 0,
		      "%s: %s", sig, why);
	ck_assert_mem_eq(h->signature, sig, 4);
}

START_TEST(every_table_has_a_valid_checksum)
{
	struct built b;

	build(&b, _i);
	verify(&b, b.info.rsdt, "RSDT");
	verify(&b, b.info.xsdt, "XSDT");
	verify(&b, b.info.fadt1, "FACP");
	verify(&b, b.info.fadt, "FACP");
	verify(&b, b.info.dsdt, "DSDT");
	verify(&b, b.info.ssdt, "SSDT");
	verify(&b, b.info.madt, "APIC");
	verify(&b, b.info.hpet, "HPET");
	verify(&b, b.info.waet, "WAET");
	free(b.buf);
}
END_TEST

START_TEST(rsdp_checksums_and_points_at_rsdt_and_xsdt)
{
	struct built b;
	struct hvm_acpi_rsdp r;

	build(&b, _i);
	ck_assert_int_eq(hvm_acpi_build_rsdp(&r, sizeof(r), b.info.rsdt,
					     b.info.xsdt),
			 36);
	ck_assert_mem_eq(r.signature, "RSD PTR ", 8);
	ck_assert_uint_eq(hvm_sum8(&r, 20), 0);
	ck_assert_uint_eq(hvm_sum8(&r, 36), 0);
	ck_assert_uint_eq(r.revision, 2);
	ck_assert_uint_eq(r.rsdt_address, b.info.rsdt);
	ck_assert_uint_eq(r.xsdt_address, b.info.xsdt);
	free(b.buf);
}
END_TEST

START_TEST(rsdt_lists_fadt_rev1_and_xsdt_lists_fadt_rev6)
{
	struct built b;
	struct hvm_acpi_header *rsdt, *xsdt;
	struct hvm_acpi_fadt *f1, *f;
	uint32_t r0;
	uint64_t x0;

	build(&b, _i);
	rsdt = at(&b, b.info.rsdt);
	xsdt = at(&b, b.info.xsdt);
	ck_assert_uint_eq(rsdt->length, 36 + 5 * 4);
	ck_assert_uint_eq(xsdt->length, 36 + 5 * 8);
	memcpy(&r0, rsdt + 1, 4);
	memcpy(&x0, xsdt + 1, 8);
	f1 = at(&b, r0);
	f = at(&b, x0);
	ck_assert_uint_eq(f1->header.revision, 1);
	ck_assert_uint_eq(f1->header.length, HVM_FADT_REV1_LEN);
	ck_assert_uint_ge(f->header.revision, 4);
	ck_assert_uint_eq(f->header.length, sizeof(*f));
	free(b.buf);
}
END_TEST

START_TEST(fadt_describes_piix4_pm_sci_and_reset)
{
	struct built b;
	struct hvm_acpi_fadt *f;

	build(&b, _i);
	f = at(&b, b.info.fadt);
	ck_assert_uint_eq(f->pm1a_evt_blk, 0xB000);
	ck_assert_uint_eq(f->x_pm1a_evt_blk.address, 0xB000);
	ck_assert_uint_eq(f->pm_tmr_blk, HVM_PM_TMR_BLK);
	ck_assert_uint_eq(f->pm_tmr_len, 4);
	ck_assert_uint_eq(f->gpe0_blk, HVM_GPE0_BLK);
	ck_assert_uint_eq(f->sci_int, 9);
	ck_assert_uint_eq(f->reset_reg.space_id, HVM_ACPI_SPACE_IO);
	ck_assert_uint_eq(f->reset_reg.address, 0xCF9);
	ck_assert_uint_eq(f->reset_value, 6);
	ck_assert(f->flags & HVM_FADT_F_RESET_REG_SUP);
	ck_assert_uint_eq(f->dsdt, b.info.dsdt);
	ck_assert_uint_eq(f->x_dsdt, b.info.dsdt);
	ck_assert_uint_eq(f->x_firmware_ctrl, b.info.facs);
	free(b.buf);
}
END_TEST

START_TEST(facs_is_64_byte_aligned_in_the_nvs_page)
{
	struct built b;
	struct hvm_acpi_facs *facs;

	build(&b, _i);
	ck_assert_uint_eq(b.info.facs % 64, 0);
	ck_assert_uint_lt(b.info.facs, b.cfg.acpi_base + HVM_ACPI_NVS_SIZE);
	facs = at(&b, b.info.facs);
	ck_assert_mem_eq(facs->signature, "FACS", 4);
	ck_assert_uint_eq(facs->length, 64);
	free(b.buf);
}
END_TEST

START_TEST(madt_has_a_lapic_per_vcpu_one_ioapic_and_the_overrides)
{
	struct built b;
	struct hvm_acpi_madt *m;
	uint8_t *p, *end;
	unsigned int lapics = 0, ioapics = 0, irq0 = 0, links = 0;

	build(&b, _i);
	m = at(&b, b.info.madt);
	p = (uint8_t *)(m + 1);
	end = (uint8_t *)m + m->header.length;
	while (p < end) {
		ck_assert_uint_ge(p[1], 2);
		if (p[0] == HVM_MADT_LAPIC) {
			struct hvm_madt_lapic *l = (void *)p;

			ck_assert_uint_eq(l->processor_uid, lapics);
			ck_assert_uint_eq(l->apic_id,
					  hvm_lapic_id(&b.cfg, lapics));
			lapics++;
		} else if (p[0] == HVM_MADT_IOAPIC) {
			ck_assert_uint_eq(((struct hvm_madt_ioapic *)p)->address,
					  HVM_IOAPIC_ADDR);
			ioapics++;
		} else if (p[0] == HVM_MADT_ISO) {
			struct hvm_madt_iso *iso = (void *)p;

			if (iso->source == 0 && iso->gsi == 2)
				irq0++;
			if (iso->source == 5 || iso->source == 10 ||
			    iso->source == 11) {
				ck_assert_uint_eq(iso->flags,
						  HVM_INTI_POLARITY_LOW |
							  HVM_INTI_TRIGGER_LEVEL);
				links++;
			}
		}
		p += p[1];
	}
	ck_assert_ptr_eq(p, end);
	ck_assert_uint_eq(lapics, b.cfg.nr_vcpus);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(irq0, 1);
	ck_assert_uint_eq(links, 3);
	free(b.buf);
}
END_TEST

/* walk the SSDT's AML: Scope(\_SB) holding one Device per vCPU */
static unsigned int pkglen(const uint8_t *p, unsigned int *bytes)
{
	unsigned int n = (p[0] >> 6) + 1, len, i;

	*bytes = n;
	if (n == 1)
		return p[0] & 0x3F;
	len = p[0] & 0xF;
	for (i = 1; i < n; i++)
		len |= (unsigned int)p[i] << (4 + 8 * (i - 1));
	return len;
}

START_TEST(ssdt_declares_one_processor_device_per_vcpu)
{
	struct built b;
	struct hvm_acpi_header *h;
	uint8_t *p, *end;
	unsigned int nb, len, devices = 0;

	build(&b, _i);
	h = at(&b, b.info.ssdt);
	p = (uint8_t *)(h + 1);
	end = (uint8_t *)h + h->length;
	/* four Name()s, then the scope */
	while (p < end && *p == 0x08) {
		p += 5;
		p += *p == 0x0A ? 2 : *p == 0x0B ? 3 : *p == 0x0C ? 5 : 9;
	}
	ck_assert_uint_eq(*p, 0x10);
	len = pkglen(p + 1, &nb);
	ck_assert_ptr_eq(p + 1 + len, end);
	p += 1 + nb;
	ck_assert_mem_eq(p, "\\_SB_", 5);
	p += 5;
	while (p < end) {
		ck_assert_uint_eq(p[0], 0x5B);
		ck_assert_uint_eq(p[1], 0x82);
		len = pkglen(p + 2, &nb);
		ck_assert_mem_eq(p + 2 + nb + 4,
				 "\x08_HID\x0D"
				 "ACPI0007",
				 14);
		p += 2 + len;
		devices++;
	}
	ck_assert_ptr_eq(p, end);
	ck_assert_uint_eq(devices, b.cfg.nr_vcpus);
	free(b.buf);
}
END_TEST

START_TEST(dsdt_is_the_compiled_asl)
{
	struct built b;

	build(&b, _i);
	ck_assert_mem_eq(at(&b, b.info.dsdt), hvm_dsdt_aml, hvm_dsdt_aml_len);
	free(b.buf);
}
END_TEST

/* an AML integer (ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix); its length */
static unsigned int aml_int(const uint8_t *p, uint64_t *v)
{
	unsigned int n, i;

	switch (p[0]) {
	case 0x00:
		*v = 0;
		return 1;
	case 0x01:
		*v = 1;
		return 1;
	case 0x0A:
		n = 1;
		break;
	case 0x0B:
		n = 2;
		break;
	case 0x0C:
		n = 4;
		break;
	case 0x0E:
		n = 8;
		break;
	default:
		ck_abort_msg("not an AML integer: 0x%02x", p[0]);
		return 0;
	}
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	return 1 + n;
}

START_TEST(dsdt_prt_matches_the_routing_the_firmware_programs)
{
	struct hvm_config cfg;
	const uint8_t *p = NULL, *end = hvm_dsdt_aml + hvm_dsdt_aml_len;
	unsigned int nb, count, i, seen = 0;
	size_t off;

	hvm_test_config(&cfg, 0);
	for (off = 0; off + 5 < hvm_dsdt_aml_len; off++)
		if (hvm_dsdt_aml[off] == 0x08 &&
		    !memcmp(hvm_dsdt_aml + off + 1, "_PRT", 4))
			p = hvm_dsdt_aml + off + 5;
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p[0], 0x12); /* Package */
	pkglen(p + 1, &nb);
	p += 1 + nb;
	count = *p++;
	ck_assert_uint_eq(count, 31 * 4);
	for (i = 0; i < count; i++) {
		uint64_t addr, pin, src, gsi;

		ck_assert(p < end);
		ck_assert_uint_eq(p[0], 0x12);
		pkglen(p + 1, &nb);
		p += 1 + nb;
		ck_assert_uint_eq(*p++, 4);
		p += aml_int(p, &addr);
		p += aml_int(p, &pin);
		p += aml_int(p, &src);
		p += aml_int(p, &gsi);
		ck_assert_uint_eq(addr & 0xFFFF, 0xFFFF);
		ck_assert_uint_eq(src, 0);
		ck_assert_uint_eq(gsi,
				  cfg.pci_link_irq[HVM_PCI_LINK(addr >> 16, pin)]);
		seen |= 1u << (gsi & 31);
	}
	ck_assert_uint_eq(seen, (1u << 5) | (1u << 10) | (1u << 11));
}
END_TEST

START_TEST(hpet_and_waet_carry_their_fields)
{
	struct built b;
	struct hvm_acpi_hpet *h;
	struct hvm_acpi_waet *w;

	build(&b, _i);
	h = at(&b, b.info.hpet);
	w = at(&b, b.info.waet);
	ck_assert_uint_eq(h->address.address, HVM_HPET_ADDR);
	ck_assert_uint_eq(h->event_timer_block_id, b.cfg.hpet_id);
	ck_assert_uint_eq(w->flags, 3);
	free(b.buf);
}
END_TEST

START_TEST(too_small_area_is_enospc)
{
	struct hvm_config cfg;
	uint8_t *buf = calloc(1, AREA);

	hvm_test_config(&cfg, 9); /* 128 vCPUs */
	ck_assert_int_eq(hvm_acpi_build(&cfg, buf, 0x1400, cfg.acpi_base,
					hvm_dsdt_aml, hvm_dsdt_aml_len, NULL),
			 -ENOSPC);
	free(buf);
}
END_TEST

START_TEST(checker_catches_a_bad_checksum)
{
	struct built b;
	struct hvm_acpi_header *h;
	const char *why = NULL;

	build(&b, 4);
	h = at(&b, b.info.madt);
	ck_assert_int_eq(hvm_acpi_verify(h, h->length, &why), 0);
	((uint8_t *)h)[40]++;
	ck_assert_int_eq(hvm_acpi_verify(h, h->length, &why), -EBADMSG);
	ck_assert_str_eq(why, "bad checksum");
	free(b.buf);
}
END_TEST

START_TEST(checker_catches_a_length_past_the_buffer)
{
	struct built b;
	struct hvm_acpi_header *h;

	build(&b, 4);
	h = at(&b, b.info.hpet);
	ck_assert_int_eq(hvm_acpi_verify(h, h->length - 1, NULL), -EBADMSG);
	free(b.buf);
}
END_TEST

static Suite *hvm_acpi_suite(void)
{
	Suite *s = suite_create("hvm_acpi");
	TCase *tc = tcase_create("acpi");

	tcase_add_loop_test(tc, every_table_has_a_valid_checksum, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, rsdp_checksums_and_points_at_rsdt_and_xsdt, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, rsdt_lists_fadt_rev1_and_xsdt_lists_fadt_rev6,
			    0, HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, fadt_describes_piix4_pm_sci_and_reset, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, facs_is_64_byte_aligned_in_the_nvs_page, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc,
			    madt_has_a_lapic_per_vcpu_one_ioapic_and_the_overrides,
			    0, HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, ssdt_declares_one_processor_device_per_vcpu, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, dsdt_is_the_compiled_asl, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, hpet_and_waet_carry_their_fields, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_test(tc, dsdt_prt_matches_the_routing_the_firmware_programs);
	tcase_add_test(tc, too_small_area_is_enospc);
	tcase_add_test(tc, checker_catches_a_bad_checksum);
	tcase_add_test(tc, checker_catches_a_length_past_the_buffer);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hvm_acpi_suite)
