/* check_hvm_mp.c - Intel MP 1.4 tables and our MP checker */
#include <string.h>

#include "check_main.h"
#include "check_hvm_common.h"

START_TEST(table_validates_with_one_processor_per_vcpu)
{
	struct hvm_config cfg;
	struct hvm_mp_summary s;
	uint8_t buf[HVM_MP_TABLE_MAX];
	const char *why = NULL;
	int len;

	hvm_test_config(&cfg, _i);
	len = hvm_mp_build(&cfg, buf, sizeof(buf));
	if (cfg.nr_vcpus == 1) {
		ck_assert_int_eq(len,
				 -EINVAL); /* no MP table for a uniprocessor */
		return;
	}
	ck_assert_int_gt(len, 0);
	ck_assert_msg(hvm_mp_verify(buf, (size_t)len, &s, &why) == 0, "%s", why);
	ck_assert_uint_eq(s.processors, cfg.nr_vcpus);
	ck_assert_uint_eq(s.bsp_count, 1);
	ck_assert_uint_eq(s.buses, 2);
	ck_assert_uint_eq(s.ioapics, 1);
	ck_assert_uint_eq(s.iointrs, 1 + 15 + 31 * 4);
	ck_assert_uint_eq(s.localintrs, 2);
	ck_assert_uint_eq(hvm_sum8(buf, (size_t)len), 0);
}
END_TEST

START_TEST(floating_pointer_checksums_and_points_at_the_table)
{
	struct hvm_mp_floating fp;
	const char *why = NULL;

	ck_assert_int_eq(hvm_mp_build_floating(&fp, sizeof(fp),
					       HVM_MP_TABLE_ADDR),
			 16);
	ck_assert_msg(hvm_mp_verify_floating(&fp, &why) == 0, "%s", why);
	ck_assert_uint_eq(fp.config_table, HVM_MP_TABLE_ADDR);
	ck_assert_uint_eq(fp.spec_rev, 4);
}
END_TEST

START_TEST(pci_interrupts_follow_the_piix3_swizzle)
{
	struct hvm_config cfg;
	uint8_t buf[HVM_MP_TABLE_MAX];
	struct hvm_mp_intr *in;
	int len;
	size_t off;

	hvm_test_config(&cfg, 3); /* 2 vCPUs */
	len = hvm_mp_build(&cfg, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	off = sizeof(struct hvm_mp_config) + 2 * 20 + 2 * 8 + 8;
	for (; off + 8 <= (size_t)len; off += 8) {
		in = (struct hvm_mp_intr *)(buf + off);
		if (in->type != HVM_MP_IOINTR || in->src_bus != 0)
			continue;
		ck_assert_uint_eq(in->dst_intin,
				  cfg.pci_link_irq[HVM_PCI_LINK(in->src_irq >> 2,
								in->src_irq & 3)]);
	}
	/* device 1 INTA uses link A: IRQ 5 */
	ck_assert_uint_eq(cfg.pci_link_irq[HVM_PCI_LINK(1, 0)], 5);
	ck_assert_uint_eq(cfg.pci_link_irq[HVM_PCI_LINK(2, 0)], 10);
}
END_TEST

START_TEST(too_small_buffer_is_enospc)
{
	struct hvm_config cfg;
	uint8_t buf[256];

	hvm_test_config(&cfg, 9);
	ck_assert_int_eq(hvm_mp_build(&cfg, buf, sizeof(buf)), -ENOSPC);
}
END_TEST

START_TEST(checker_catches_a_bad_checksum)
{
	struct hvm_config cfg;
	uint8_t buf[HVM_MP_TABLE_MAX];
	const char *why = NULL;
	int len;

	hvm_test_config(&cfg, 6);
	len = hvm_mp_build(&cfg, buf, sizeof(buf));
	buf[sizeof(struct hvm_mp_config) + 4] ^= 0x40; /* a CPU signature bit */
	ck_assert_int_eq(hvm_mp_verify(buf, (size_t)len, NULL, &why), -EBADMSG);
	ck_assert_str_eq(why, "base table checksum");
}
END_TEST

START_TEST(checker_catches_duplicate_apic_ids)
{
	struct hvm_config cfg;
	uint8_t buf[HVM_MP_TABLE_MAX];
	struct hvm_mp_config *c = (void *)buf;
	const char *why = NULL;
	int len;

	hvm_test_config(&cfg, 6);
	cfg.ioapic_id = 0; /* collides with the BSP */
	len = hvm_mp_build(&cfg, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(hvm_mp_verify(buf, (size_t)len, NULL, &why), -EBADMSG);
	ck_assert_str_eq(why, "IOAPIC ID collides with another APIC");
	(void)c;
}
END_TEST

START_TEST(checker_catches_a_wrong_entry_count)
{
	struct hvm_config cfg;
	uint8_t buf[HVM_MP_TABLE_MAX];
	struct hvm_mp_config *c = (void *)buf;
	const char *why = NULL;
	int len;

	hvm_test_config(&cfg, 6);
	len = hvm_mp_build(&cfg, buf, sizeof(buf));
	c->entry_count++;
	c->checksum--; /* keep the checksum right: only the count is wrong */
	ck_assert_int_eq(hvm_mp_verify(buf, (size_t)len, NULL, &why), -EBADMSG);
}
END_TEST

START_TEST(checker_catches_a_bad_floating_pointer)
{
	struct hvm_mp_floating fp;

	hvm_mp_build_floating(&fp, sizeof(fp), HVM_MP_TABLE_ADDR);
	fp.config_table += 16;
	ck_assert_int_eq(hvm_mp_verify_floating(&fp, NULL), -EBADMSG);
}
END_TEST

static Suite *hvm_mp_suite(void)
{
	Suite *s = suite_create("hvm_mp");
	TCase *tc = tcase_create("mp");

	tcase_add_loop_test(tc, table_validates_with_one_processor_per_vcpu, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_test(tc, floating_pointer_checksums_and_points_at_the_table);
	tcase_add_test(tc, pci_interrupts_follow_the_piix3_swizzle);
	tcase_add_test(tc, too_small_buffer_is_enospc);
	tcase_add_test(tc, checker_catches_a_bad_checksum);
	tcase_add_test(tc, checker_catches_duplicate_apic_ids);
	tcase_add_test(tc, checker_catches_a_wrong_entry_count);
	tcase_add_test(tc, checker_catches_a_bad_floating_pointer);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hvm_mp_suite)
