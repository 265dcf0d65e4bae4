/* check_hvm_cmdline.c - the firmware's command line */
#include <string.h>

#include "check_main.h"
#include "check_hvm_common.h"

static struct hvm_config cfg;
static struct hvm_cmdline opt;
static char pool[256];

static int parse(const char *line)
{
	ck_assert_int_eq(hvm_config_init(&cfg, 1, 1ull << 30), 0);
	return hvm_cmdline_parse(line, &cfg, &opt, pool, sizeof(pool));
}

START_TEST(reads_vcpus_memory_and_modes)
{
	ck_assert_int_eq(parse("/boot/hvmloader.elf vcpus=4 mem=3584 dump=1 halt=1"),
			 0);
	ck_assert_uint_eq(opt.vcpus, 4);
	ck_assert_uint_eq(opt.mem_mb, 3584);
	ck_assert_int_eq(opt.dump, 1);
	ck_assert_int_eq(opt.halt, 1);
	ck_assert_int_eq(opt.exit, 0);
}
END_TEST

START_TEST(smbios_strings_replace_the_defaults_with_underscores_as_spaces)
{
	ck_assert_int_eq(parse("sys_manufacturer=ACME sys_product=Road_Runner oem=hello"),
			 0);
	ck_assert_str_eq(cfg.sys_manufacturer, "ACME");
	ck_assert_str_eq(cfg.sys_product, "Road Runner");
	ck_assert_str_eq(cfg.oem_strings[0], "hello");
	ck_assert_str_eq(cfg.bios_vendor, "Xen"); /* untouched default */
}
END_TEST

START_TEST(uuid_is_stored_in_smbios_wire_order)
{
	static const uint8_t want[16] = { 0x67, 0x45, 0x23, 0x01, 0xab, 0x89,
					  0xef, 0xcd, 0x01, 0x23, 0x45, 0x67,
					  0x89, 0xab, 0xcd, 0xef };

	ck_assert_int_eq(parse("uuid=01234567-89ab-cdef-0123-456789abcdef"), 0);
	ck_assert_mem_eq(cfg.uuid, want, 16);
}
END_TEST

START_TEST(malformed_values_are_rejected_and_ignored)
{
	static const uint8_t zero[16];

	ck_assert_int_eq(parse("vcpus=0"), -EINVAL);
	ck_assert_uint_eq(opt.vcpus, 0);
	ck_assert_int_eq(parse("vcpus=129"), -EINVAL);
	ck_assert_int_eq(parse("vcpus=4x"), -EINVAL);
	ck_assert_int_eq(parse("mem=8"), -EINVAL);
	ck_assert_int_eq(parse("uuid=0123456789abcdef0123456789abcdef"),
			 -EINVAL);
	ck_assert_int_eq(parse("uuid=01234567-89ab-cdef-0123-456789abcdeg"),
			 -EINVAL);
	ck_assert_mem_eq(cfg.uuid, zero, 16);
	/* and the good words around a bad one still apply */
	ck_assert_int_eq(parse("vcpus=2 mem=x sys_serial=42"), -EINVAL);
	ck_assert_uint_eq(opt.vcpus, 2);
	ck_assert_str_eq(cfg.sys_serial, "42");
}
END_TEST

START_TEST(bare_words_and_unknown_keys_are_ignored)
{
	ck_assert_int_eq(parse("quiet  foo=bar vcpus=3 ="), 0);
	ck_assert_uint_eq(opt.vcpus, 3);
}
END_TEST

START_TEST(a_full_string_pool_is_enospc_and_keeps_defaults)
{
	char line[600];

	memset(line, 0, sizeof(line));
	strcpy(line, "sys_product=");
	memset(line + strlen(line), 'x', 300);
	ck_assert_int_eq(parse(line), -ENOSPC);
	ck_assert_str_eq(cfg.sys_product, "HVM domU");
}
END_TEST

static Suite *hvm_cmdline_suite(void)
{
	Suite *s = suite_create("hvm_cmdline");
	TCase *tc = tcase_create("cmdline");

	tcase_add_test(tc, reads_vcpus_memory_and_modes);
	tcase_add_test(tc,
		       smbios_strings_replace_the_defaults_with_underscores_as_spaces);
	tcase_add_test(tc, uuid_is_stored_in_smbios_wire_order);
	tcase_add_test(tc, malformed_values_are_rejected_and_ignored);
	tcase_add_test(tc, bare_words_and_unknown_keys_are_ignored);
	tcase_add_test(tc, a_full_string_pool_is_enospc_and_keeps_defaults);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hvm_cmdline_suite)
