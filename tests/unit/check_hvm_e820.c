/* check_hvm_e820.c - the E820 builder and its checker */
#include "check_main.h"
#include "check_hvm_common.h"

static int build(const struct hvm_config *cfg, struct hvm_e820_entry *e,
		 size_t max)
{
	int len = hvm_e820_build(cfg, e, max * sizeof(*e));

	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(len % (int)sizeof(*e), 0);
	return len / (int)sizeof(*e);
}

START_TEST(map_is_sorted_and_non_overlapping)
{
	struct hvm_config cfg;
	struct hvm_e820_entry e[32];
	const char *why = NULL;
	int n;

	hvm_test_config(&cfg, _i);
	n = build(&cfg, e, 32);
	ck_assert_msg(hvm_e820_verify(e, (size_t)n, &why) == 0, "%s", why);
}
END_TEST

START_TEST(ram_adds_up_to_the_configured_memory)
{
	struct hvm_config cfg;
	struct hvm_e820_entry e[32];
	uint64_t ram = 0, acpi = 0;
	int n, i;

	hvm_test_config(&cfg, _i);
	n = build(&cfg, e, 32);
	for (i = 0; i < n; i++) {
		if (e[i].type == HVM_E820_RAM)
			ram += e[i].size;
		if (e[i].type == HVM_E820_ACPI || e[i].type == HVM_E820_NVS)
			acpi += e[i].size;
	}
	/* all memory except the VGA/BIOS hole 0x9F000-0x100000 is RAM or ACPI */
	ck_assert_uint_eq(ram + acpi + (0x100000 - HVM_LOWRAM_END),
			  hvm_test_mem[_i % 3]);
	ck_assert_uint_eq(acpi, HVM_ACPI_AREA_SIZE);
}
END_TEST

START_TEST(high_ram_starts_at_4g_only_when_memory_exceeds_the_hole)
{
	struct hvm_config cfg;
	struct hvm_e820_entry e[32];
	int n, i, high = 0;

	hvm_test_config(&cfg, _i);
	n = build(&cfg, e, 32);
	for (i = 0; i < n; i++)
		if (e[i].addr >= (1ull << 32)) {
			ck_assert_uint_eq(e[i].addr, 1ull << 32);
			ck_assert_int_eq(e[i].type, HVM_E820_RAM);
			high = 1;
		}
	ck_assert_int_eq(high, hvm_test_mem[_i % 3] > HVM_MMIO_DEFAULT_START);
}
END_TEST

START_TEST(pci_hole_is_not_ram)
{
	struct hvm_config cfg;
	struct hvm_e820_entry e[32];
	int n, i;

	hvm_test_config(&cfg, _i);
	n = build(&cfg, e, 32);
	for (i = 0; i < n; i++)
		ck_assert(e[i].addr + e[i].size <= cfg.mmio_start ||
			  e[i].addr >= cfg.mmio_end ||
			  e[i].type == HVM_E820_RESERVED);
	/* and the region above the hole is reserved up to 4 GiB */
	ck_assert_uint_eq(e[n - 1 - (cfg.high_mem_end ? 1 : 0)].addr,
			  HVM_RESERVED_MEMBASE);
}
END_TEST

START_TEST(too_small_buffer_is_enospc)
{
	struct hvm_config cfg;
	struct hvm_e820_entry e[3];

	hvm_test_config(&cfg, 0);
	ck_assert_int_eq(hvm_e820_build(&cfg, e, sizeof(e)), -ENOSPC);
}
END_TEST

START_TEST(checker_catches_overlap_and_disorder)
{
	struct hvm_config cfg;
	struct hvm_e820_entry e[32], t;
	const char *why;
	int n;

	hvm_test_config(&cfg, 2);
	n = build(&cfg, e, 32);
	e[1].addr -= 0x1000; /* overlaps entry 0 */
	ck_assert_int_eq(hvm_e820_verify(e, (size_t)n, &why), -EBADMSG);
	e[1].addr += 0x1000;
	t = e[2];
	e[2] = e[3];
	e[3] = t;
	ck_assert_int_eq(hvm_e820_verify(e, (size_t)n, &why), -EBADMSG);
}
END_TEST

START_TEST(config_rejects_bad_vcpu_counts)
{
	struct hvm_config cfg;

	ck_assert_int_eq(hvm_config_init(&cfg, 0, 1ull << 30), -EINVAL);
	ck_assert_int_eq(hvm_config_init(&cfg, 129, 1ull << 30), -EINVAL);
	ck_assert_int_eq(hvm_config_init(&cfg, 1, 1u << 20), -EINVAL);
}
END_TEST

static Suite *hvm_e820_suite(void)
{
	Suite *s = suite_create("hvm_e820");
	TCase *tc = tcase_create("e820");

	tcase_add_loop_test(tc, map_is_sorted_and_non_overlapping, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, ram_adds_up_to_the_configured_memory, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc,
			    high_ram_starts_at_4g_only_when_memory_exceeds_the_hole,
			    0, HVM_NR_TEST_CONFIGS);
	tcase_add_loop_test(tc, pci_hole_is_not_ram, 0, HVM_NR_TEST_CONFIGS);
	tcase_add_test(tc, too_small_buffer_is_enospc);
	tcase_add_test(tc, checker_catches_overlap_and_disorder);
	tcase_add_test(tc, config_rejects_bad_vcpu_counts);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hvm_e820_suite)
