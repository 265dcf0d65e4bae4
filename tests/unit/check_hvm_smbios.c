/* check_hvm_smbios.c - SMBIOS table and its _SM3_/_SM_ entry points */
#include <string.h>

#include "check_main.h"
#include "check_hvm_common.h"

#define TABLE_ADDR HVM_SMBIOS_ADDR

struct built {
	struct hvm_config cfg;
	uint8_t buf[HVM_SMBIOS_MAX];
	struct hvm_smbios_info info;
	int len;
};

static void build(struct built *b, int i)
{
	hvm_test_config(&b->cfg, i);
	b->len = hvm_smbios_build(&b->cfg, b->buf, sizeof(b->buf), TABLE_ADDR,
				  &b->info);
	ck_assert_int_gt(b->len, 0);
	ck_assert_uint_eq(b->info.table_len, (uint32_t)b->len);
}

/* the structure with handle `h` (handles run 0, 1, 2, ...) */
static const uint8_t *structure(const struct built *b, unsigned int h)
{
	size_t pos = 0;

	while (pos < (size_t)b->len) {
		const uint8_t *s = b->buf + pos;
		size_t end = pos + s[1];

		if ((unsigned int)(s[2] | s[3] << 8) == h)
			return s;
		while (b->buf[end] || b->buf[end + 1])
			end++;
		pos = end + 2;
	}
	return NULL;
}

static const char *string(const uint8_t *s, unsigned int idx)
{
	const char *p = (const char *)s + s[1];

	ck_assert_uint_gt(idx, 0);
	while (--idx)
		p += strlen(p) + 1;
	return p;
}

START_TEST(structure_count_and_length_match_the_entry_points)
{
	struct built b;
	struct hvm_smbios21_ep ep2;
	struct hvm_smbios3_ep ep3;
	const char *why = NULL;
	unsigned int n4 = 0;

	build(&b, _i);
	ck_assert_int_eq(hvm_smbios_build_ep21(&ep2, sizeof(ep2), TABLE_ADDR,
					       &b.info),
			 31);
	ck_assert_int_eq(hvm_smbios_build_ep3(&ep3, sizeof(ep3), TABLE_ADDR,
					      &b.info),
			 24);
	ck_assert_msg(hvm_smbios_verify(b.buf, ep2.table_length,
					ep2.nr_structures, 4, &n4, &why) == 0,
		      "%s", why);
	ck_assert_uint_eq(ep2.table_length, (unsigned int)b.len);
	ck_assert_uint_eq(ep3.max_table_size, (unsigned int)b.len);
	ck_assert_uint_eq(n4, b.cfg.nr_vcpus);
	ck_assert_uint_eq(ep2.table_address, TABLE_ADDR);
	ck_assert_uint_eq(ep3.table_address, TABLE_ADDR);
}
END_TEST

START_TEST(entry_point_checksums_are_valid)
{
	struct built b;
	struct hvm_smbios21_ep ep2;
	struct hvm_smbios3_ep ep3;

	build(&b, _i);
	hvm_smbios_build_ep21(&ep2, sizeof(ep2), TABLE_ADDR, &b.info);
	hvm_smbios_build_ep3(&ep3, sizeof(ep3), TABLE_ADDR, &b.info);
	ck_assert_mem_eq(ep2.anchor, "_SM_", 4);
	ck_assert_mem_eq(ep2.intermediate_anchor, "_DMI_", 5);
	ck_assert_mem_eq(ep3.anchor, "_SM3_", 5);
	ck_assert_uint_eq(hvm_sum8(&ep2, sizeof(ep2)), 0);
	ck_assert_uint_eq(hvm_sum8(ep2.intermediate_anchor, 15), 0);
	ck_assert_uint_eq(hvm_sum8(&ep3, sizeof(ep3)), 0);
	ck_assert_uint_eq(ep3.major, 3);
}
END_TEST

START_TEST(all_required_types_are_present_in_order)
{
	static const uint8_t first[] = { 0, 1, 3, 4 };
	struct built b;
	unsigned int h, seen[128] = { 0 };
	const uint8_t *s;

	build(&b, _i);
	for (h = 0; h < 4; h++)
		ck_assert_uint_eq(structure(&b, h)[0], first[h]);
	for (h = 0; (s = structure(&b, h)); h++)
		seen[s[0] & 127]++;
	ck_assert_uint_eq(seen[4], b.cfg.nr_vcpus);
	ck_assert_uint_eq(seen[11], 1);
	ck_assert_uint_eq(seen[16], 1);
	ck_assert_uint_ge(seen[17], 1);
	ck_assert_uint_eq(seen[19], b.cfg.high_mem_end ? 2 : 1);
	ck_assert_uint_ge(seen[20], seen[17]);
	ck_assert_uint_eq(seen[32], 1);
	ck_assert_uint_eq(structure(&b, h - 1)[0], 127);
}
END_TEST

START_TEST(strings_come_from_the_configuration)
{
	struct built b;
	const uint8_t *t1;
	static const uint8_t uuid[16] = { 1, 2,  3,  4,  5,  6,  7,  8,
					  9, 10, 11, 12, 13, 14, 15, 16 };

	hvm_test_config(&b.cfg, 5);
	b.cfg.sys_manufacturer = "ACME";
	b.cfg.sys_product = "Roadrunner 3000";
	memcpy(b.cfg.uuid, uuid, 16);
	b.len = hvm_smbios_build(&b.cfg, b.buf, sizeof(b.buf), TABLE_ADDR,
				 &b.info);
	ck_assert_int_gt(b.len, 0);
	t1 = structure(&b, 1);
	ck_assert_uint_eq(t1[0], 1);
	ck_assert_str_eq(string(t1, t1[4]), "ACME");
	ck_assert_str_eq(string(t1, t1[5]), "Roadrunner 3000");
	ck_assert_mem_eq(t1 + 8, uuid, 16);
}
END_TEST

START_TEST(empty_strings_become_string_number_zero)
{
	struct built b;
	const uint8_t *t3;

	build(&b, 0);
	t3 = structure(&b, 2);
	ck_assert_uint_eq(t3[0], 3);
	ck_assert_uint_eq(t3[7], 0); /* chassis serial "" */
}
END_TEST

START_TEST(memory_array_covers_all_ram)
{
	struct built b;
	const uint8_t *s;
	uint64_t total = 0;
	unsigned int h;

	build(&b, _i);
	for (h = 0; (s = structure(&b, h)); h++) {
		uint32_t mb;

		if (s[0] != 17)
			continue;
		mb = (uint32_t)(s[0x0C] | s[0x0D] << 8);
		if (mb == 0x7FFF)
			memcpy(&mb, s + 0x1C, 4);
		total += (uint64_t)mb << 20;
	}
	ck_assert_uint_eq(total, hvm_test_mem[_i % 3]);
}
END_TEST

START_TEST(too_small_buffer_is_enospc)
{
	struct built b;

	hvm_test_config(&b.cfg, 9);
	ck_assert_int_eq(hvm_smbios_build(&b.cfg, b.buf, 512, TABLE_ADDR, NULL),
			 -ENOSPC);
}
END_TEST

START_TEST(checker_catches_a_wrong_structure_count)
{
	struct built b;
	const char *why;

	build(&b, 4);
	ck_assert_int_eq(hvm_smbios_verify(b.buf, (size_t)b.len,
					   b.info.nr_structures + 1, -1, NULL,
					   &why),
			 -EBADMSG);
}
END_TEST

START_TEST(checker_catches_a_broken_string_set)
{
	struct built b;
	const char *why;

	build(&b, 4);
	/* the end-of-table structure's double NUL */
	b.buf[b.len - 1] = 'x';
	b.buf[b.len - 2] = 'x';
	ck_assert_int_eq(hvm_smbios_verify(b.buf, (size_t)b.len,
					   b.info.nr_structures, -1, NULL, &why),
			 -EBADMSG);
}
END_TEST

START_TEST(entry_point_checksum_breaks_when_a_byte_changes)
{
	struct built b;
	struct hvm_smbios3_ep ep3;

	build(&b, 4);
	hvm_smbios_build_ep3(&ep3, sizeof(ep3), TABLE_ADDR, &b.info);
	ep3.table_address += 16;
	ck_assert_uint_ne(hvm_sum8(&ep3, sizeof(ep3)), 0);
}
END_TEST

static Suite *hvm_smbios_suite(void)
{
	Suite *s = suite_create("hvm_smbios");
	TCase *tc = tcase_create("smbios");

	tcase_add_loop_test(tc,
			    structure_count_and_length_match_the_entry_points,
			    0, HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, entry_point_checksums_are_valid, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, all_required_types_are_present_in_order, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, memory_array_covers_all_ram, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_test(tc, strings_come_from_the_configuration);
	tcase_add_test(tc, empty_strings_become_string_number_zero);
	tcase_add_test(tc, too_small_buffer_is_enospc);
	tcase_add_test(tc, checker_catches_a_wrong_structure_count);
	tcase_add_test(tc, checker_catches_a_broken_string_set);
	tcase_add_test(tc, entry_point_checksum_breaks_when_a_byte_changes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hvm_smbios_suite)
