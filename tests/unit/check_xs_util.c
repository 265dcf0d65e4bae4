/* check_xs_util.c - the store's small containers: the integer-keyed map
 * (domains by id) and the indexed set of names (a node's children in a
 * transaction). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "xenstored/util.h"

/* A value for key k that is never NULL and tells keys apart. */
#define VAL(k) ((void *)(uintptr_t)((k)*2 + 1))

START_TEST(imap_put_get_del_many)
{
	struct xs_imap m = { 0 };
	uint32_t k;

	ck_assert_ptr_null(xs_imap_get(&m, 5)); /* empty, no table */
	ck_assert_ptr_null(xs_imap_del(&m, 5));
	for (k = 0; k < 5000; k++)
		ck_assert_int_eq(xs_imap_put(&m, k * 7, VAL(k)), 0);
	ck_assert_uint_eq(m.n, 5000);
	for (k = 0; k < 5000; k++) {
		ck_assert_ptr_eq(xs_imap_get(&m, k * 7), VAL(k));
		ck_assert_ptr_null(xs_imap_get(&m, k * 7 + 1));
	}
	/* replacing keeps the count */
	ck_assert_int_eq(xs_imap_put(&m, 7, VAL(99)), 0);
	ck_assert_uint_eq(m.n, 5000);
	ck_assert_ptr_eq(xs_imap_get(&m, 7), VAL(99));
	/* every other one goes; the rest stay findable (backward shift) */
	for (k = 0; k < 5000; k += 2)
		ck_assert_ptr_nonnull(xs_imap_del(&m, k * 7));
	ck_assert_uint_eq(m.n, 2500);
	for (k = 0; k < 5000; k++)
		if (k % 2)
			ck_assert_ptr_nonnull(xs_imap_get(&m, k * 7));
		else
			ck_assert_ptr_null(xs_imap_get(&m, k * 7));
	xs_imap_free(&m);
	ck_assert_ptr_null(xs_imap_get(&m, 7));
}
END_TEST

/* Keys that share a home slot (a multiple of the table size apart after
 * hashing is unlikely; so crowd a small table instead): deleting from the
 * middle of a probe run must not hide the keys after it. */
START_TEST(imap_delete_inside_probe_runs)
{
	struct xs_imap m = { 0 };
	uint32_t k, round;

	for (round = 0; round < 50; round++) {
		for (k = 0; k < 7; k++) /* 7 in 16 slots: long runs */
			ck_assert_int_eq(xs_imap_put(&m, k + round * 13, VAL(k)),
					 0);
		ck_assert_ptr_eq(xs_imap_del(&m, 3 + round * 13), VAL(3));
		for (k = 0; k < 7; k++)
			if (k == 3)
				ck_assert_ptr_null(
					xs_imap_get(&m, k + round * 13));
			else
				ck_assert_ptr_eq(xs_imap_get(&m, k + round * 13),
						 VAL(k));
		for (k = 0; k < 7; k++)
			xs_imap_del(&m, k + round * 13);
		ck_assert_uint_eq(m.n, 0);
	}
	xs_imap_free(&m);
}
END_TEST

struct item {
	struct xs_hlink link;
	char key[16];
};

static const char *item_key(const struct xs_hlink *l)
{
	return ((const struct item *)l)->key;
}

/* The intrusive table of the tree's paths: grows, finds, unlinks without
 * freeing what it links. */
START_TEST(ihash_put_get_del_many)
{
	static struct item items[3000];
	struct xs_ihash h;
	char key[16];
	unsigned i;

	ck_assert_int_eq(xs_ihash_init(&h, item_key), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(items[i].key, sizeof(items[i].key), "/k/%u", i);
		xs_ihash_put(&h, &items[i].link);
	}
	ck_assert_uint_eq(h.n, 3000);
	ck_assert_uint_ge(h.nbuckets, 2048); /* it grew */
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "/k/%u", i);
		ck_assert_ptr_eq(xs_ihash_get(&h, key), &items[i].link);
	}
	ck_assert_ptr_null(xs_ihash_get(&h, "/k/3000"));
	for (i = 0; i < 3000; i += 2) {
		snprintf(key, sizeof(key), "/k/%u", i);
		ck_assert_ptr_eq(xs_ihash_del(&h, key), &items[i].link);
	}
	ck_assert_ptr_null(xs_ihash_del(&h, "/k/0"));
	ck_assert_uint_eq(h.n, 1500);
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "/k/%u", i);
		if (i % 2)
			ck_assert_ptr_eq(xs_ihash_get(&h, key), &items[i].link);
		else
			ck_assert_ptr_null(xs_ihash_get(&h, key));
	}
	xs_ihash_free(&h);
}
END_TEST

static unsigned count_names(const struct xs_names *s, char *first,
			    size_t firstlen)
{
	uint32_t off = 0;
	unsigned n = 0;
	const char *p;

	while ((p = xs_names_next(s, &off))) {
		if (n == 0 && first)
			snprintf(first, firstlen, "%s", p);
		n++;
	}
	return n;
}

START_TEST(names_keep_order_and_find_by_name)
{
	struct xs_names s = { 0 };
	uint32_t off = 0;

	ck_assert(!xs_names_find(&s, "a", 1));
	ck_assert_int_eq(xs_names_add(&s, "b", 1), 0);
	ck_assert_int_eq(xs_names_add(&s, "a", 1), 0);
	ck_assert_int_eq(xs_names_add(&s, "abc/def", 3), 0); /* a prefix */
	ck_assert_str_eq(xs_names_next(&s, &off), "b");
	ck_assert_str_eq(xs_names_next(&s, &off), "a");
	ck_assert_str_eq(xs_names_next(&s, &off), "abc");
	ck_assert_ptr_null(xs_names_next(&s, &off));
	ck_assert(xs_names_find(&s, "abc", 3));
	ck_assert(xs_names_find(&s, "abcd", 3)); /* length counts, not NUL */
	ck_assert(!xs_names_find(&s, "ab", 2));
	ck_assert_uint_eq(s.childlen, 2 + 2 + 4);
	ck_assert_uint_eq(s.n, 3);
	xs_names_clear(&s);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_ptr_null(xs_names_next(&s, &off));
}
END_TEST

/* A thousand domains under /local/domain: delete most, re-add some (a
 * rename is a delete and an add), and the survivors keep their order and
 * stay findable across compactions. */
START_TEST(names_many_delete_and_readd)
{
	struct xs_names s = { 0 };
	char name[16], first[16];
	uint32_t off = 0, i, expect_len = 0;
	const char *p;
	int prev = -1;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "%u", i);
		ck_assert_int_eq(xs_names_add(&s, name, strlen(name)), 0);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "%u", i);
		if (i % 10)
			ck_assert(xs_names_del(&s, name, strlen(name)));
	}
	ck_assert(!xs_names_del(&s, "5", 1)); /* already gone */
	ck_assert_uint_eq(s.n, 100);
	/* compacted: the holes did not stay */
	ck_assert_uint_le(s.len, 2 * s.childlen);
	for (i = 0; i < 100; i++)
		expect_len +=
			(uint32_t)snprintf(name, sizeof(name), "%u", i * 10) + 1;
	ck_assert_uint_eq(s.childlen, expect_len);
	while ((p = xs_names_next(&s, &off))) {
		int v = atoi(p);

		ck_assert_int_eq(v % 10, 0);
		ck_assert_int_gt(v, prev); /* creation order kept */
		prev = v;
		ck_assert(xs_names_find(&s, p, strlen(p)));
	}
	/* renamed: "990" goes, "renamed" comes last */
	ck_assert(xs_names_del(&s, "990", 3));
	ck_assert_int_eq(xs_names_add(&s, "renamed", 7), 0);
	ck_assert(!xs_names_find(&s, "990", 3));
	ck_assert(xs_names_find(&s, "renamed", 7));
	ck_assert_uint_eq(count_names(&s, first, sizeof(first)), 100);
	ck_assert_str_eq(first, "0");
	off = 0;
	while ((p = xs_names_next(&s, &off)))
		strcpy(name, p);
	ck_assert_str_eq(name, "renamed");
	/* every name deleted and added back: still one each */
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "x%u", i % 50);
		if (xs_names_find(&s, name, strlen(name)))
			ck_assert(xs_names_del(&s, name, strlen(name)));
		ck_assert_int_eq(xs_names_add(&s, name, strlen(name)), 0);
	}
	ck_assert_uint_eq(count_names(&s, NULL, 0), 150);
	ck_assert_uint_eq(s.n, 150);
	xs_names_clear(&s);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("xs_util");
	TCase *tc = tcase_create("imap");

	tcase_add_test(tc, imap_put_get_del_many);
	tcase_add_test(tc, imap_delete_inside_probe_runs);
	tcase_add_test(tc, ihash_put_get_del_many);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_test(tc, names_keep_order_and_find_by_name);
	tcase_add_test(tc, names_many_delete_and_readd);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(util_suite)
