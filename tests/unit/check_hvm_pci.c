/* check_hvm_pci.c - BAR placement */
#include "check_main.h"
#include "check_hvm_common.h"

static void bar(struct hvm_bar *b, unsigned int devfn, unsigned int idx,
		unsigned int flags, uint64_t size)
{
	b->bus = 0;
	b->devfn = (uint8_t)devfn;
	b->index = (uint8_t)idx;
	b->flags = (uint8_t)flags;
	b->size = size;
	b->base = 0;
}

static void assert_no_overlap(const struct hvm_bar *b, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if ((b[i].flags & HVM_BAR_IO) ==
			    (b[j].flags & HVM_BAR_IO))
				ck_assert_msg(b[i].base + b[i].size <=
							      b[j].base ||
						      b[j].base + b[j].size <=
							      b[i].base,
					      "BARs %zu and %zu overlap", i, j);
}

START_TEST(places_largest_first_aligned_inside_the_hole)
{
	struct hvm_config cfg;
	struct hvm_bar b[6];
	size_t i;

	hvm_test_config(&cfg, _i);
	bar(&b[0], 0x10, 0, 0, 0x1000);
	bar(&b[1], 0x18, 0, HVM_BAR_PREF, 16u << 20); /* VGA LFB */
	bar(&b[2], 0x18, 2, 0, 0x1000);
	bar(&b[3], 0x18, 6, HVM_BAR_ROM, 0x10000);
	bar(&b[4], 0x20, 0, 0, 0x20000);
	bar(&b[5], 0x20, 1, HVM_BAR_IO, 0x40);
	ck_assert_int_eq(hvm_pci_allocate(&cfg, b, 6), 0);
	for (i = 0; i < 6; i++) {
		ck_assert_uint_eq(b[i].base & (b[i].size - 1), 0);
		if (b[i].flags & HVM_BAR_IO) {
			ck_assert_uint_ge(b[i].base, HVM_IO_START);
			ck_assert_uint_le(b[i].base + b[i].size, HVM_IO_END);
		} else {
			ck_assert_uint_ge(b[i].base, cfg.mmio_start);
			ck_assert_uint_le(b[i].base + b[i].size, cfg.mmio_end);
		}
	}
	ck_assert_uint_eq(b[1].base,
			  cfg.mmio_start); /* the largest comes first */
	ck_assert_uint_eq(cfg.mmio64_size, 0);
	assert_no_overlap(b, 6);
}
END_TEST

START_TEST(io_bars_pack_from_0xc000)
{
	struct hvm_config cfg;
	struct hvm_bar b[3];

	hvm_test_config(&cfg, 0);
	bar(&b[0], 0x08, 4, HVM_BAR_IO, 0x10);
	bar(&b[1], 0x10, 0, HVM_BAR_IO, 0x40);
	bar(&b[2], 0x10, 1, HVM_BAR_IO, 0x100);
	ck_assert_int_eq(hvm_pci_allocate(&cfg, b, 3), 0);
	ck_assert_uint_eq(b[2].base, 0xC000);
	ck_assert_uint_eq(b[1].base, 0xC100);
	ck_assert_uint_eq(b[0].base, 0xC140);
}
END_TEST

START_TEST(hole_grows_down_before_anything_goes_high)
{
	struct hvm_config cfg;
	struct hvm_bar b[2];

	hvm_test_config(&cfg, 0); /* 1 GiB: room below the default hole */
	bar(&b[0], 0x10, 0, 0, 128u << 20);
	bar(&b[1], 0x18, 0, 0, 128u << 20);
	ck_assert_int_eq(hvm_pci_allocate(&cfg, b, 2), 0);
	ck_assert_uint_eq(cfg.mmio_start, 0xE0000000u);
	ck_assert_uint_eq(cfg.mmio64_size, 0);
	assert_no_overlap(b, 2);
}
END_TEST

START_TEST(big_64bit_bars_go_above_4g_when_the_hole_is_full)
{
	struct hvm_config cfg;
	struct hvm_bar b[3];

	hvm_test_config(&cfg,
			2); /* 8 GiB: low RAM up to 0xF0000000, no room to grow */
	bar(&b[0], 0x10, 0, HVM_BAR_64 | HVM_BAR_PREF, 1ull << 30);
	bar(&b[1], 0x18, 0, 0, 16u << 20);
	bar(&b[2], 0x20, 0, HVM_BAR_64, 0x4000);
	ck_assert_int_eq(hvm_pci_allocate(&cfg, b, 3), 0);
	ck_assert_uint_ge(b[0].base, 1ull << 32);
	ck_assert_uint_ge(b[0].base, cfg.high_mem_end);
	ck_assert_uint_eq(b[0].base & ((1ull << 30) - 1), 0);
	ck_assert_uint_lt(b[1].base, 1ull << 32);
	ck_assert_uint_lt(b[2].base, 1ull << 32); /* small ones still fit low */
	ck_assert_uint_eq(cfg.mmio64_start + cfg.mmio64_size,
			  b[0].base + b[0].size);
}
END_TEST

START_TEST(a_32bit_bar_that_cannot_fit_is_enospc)
{
	struct hvm_config cfg;
	struct hvm_bar b[1];

	hvm_test_config(&cfg, 2);
	bar(&b[0], 0x10, 0, 0, 1ull << 30);
	ck_assert_int_eq(hvm_pci_allocate(&cfg, b, 1), -ENOSPC);
}
END_TEST

START_TEST(a_size_that_is_not_a_power_of_two_is_einval)
{
	struct hvm_config cfg;
	struct hvm_bar b[1];

	hvm_test_config(&cfg, 0);
	bar(&b[0], 0x10, 0, 0, 0x3000);
	ck_assert_int_eq(hvm_pci_allocate(&cfg, b, 1), -EINVAL);
}
END_TEST

static Suite *hvm_pci_suite(void)
{
	Suite *s = suite_create("hvm_pci");
	TCase *tc = tcase_create("pci");

	tcase_add_loop_test(tc, places_largest_first_aligned_inside_the_hole, 0,
			    HVM_NR_TEST_CONFIGS);
	tcase_add_test(tc, io_bars_pack_from_0xc000);
	tcase_add_test(tc, hole_grows_down_before_anything_goes_high);
	tcase_add_test(tc, big_64bit_bars_go_above_4g_when_the_hole_is_full);
	tcase_add_test(tc, a_32bit_bar_that_cannot_fit_is_enospc);
	tcase_add_test(tc, a_size_that_is_not_a_power_of_two_is_einval);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hvm_pci_suite)
