/*
 * check_blk_params - the `params`/`type` keys of a vbd, and the
 * `protocol` key: every accepted form and every rejection.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "blkback/common.h"
#include "check_main.h"

static struct blkbk_params p;

static void ok(const char *params, const char *type)
{
	const char *why = NULL;
	int rc = blkbk_params_parse(params, type, &p, &why);

	ck_assert_msg(rc == 0, "'%s' rejected: %s", params, why ? why : "?");
}

static void bad(const char *params, const char *type)
{
	const char *why = NULL;

	ck_assert_msg(blkbk_params_parse(params, type, &p, &why) == -EINVAL,
		      "'%s' (type %s) accepted", params, type ? type : "-");
	ck_assert_ptr_nonnull(why);
}

START_TEST(bare_path_is_a_file)
{
	ok("/var/lib/xen/disk.img", NULL);
	ck_assert_int_eq(p.kind, BLKBK_BACKING_FILE);
	ck_assert_int_eq(p.phy, 0);
	ck_assert_str_eq(p.path, "/var/lib/xen/disk.img");
}
END_TEST

START_TEST(prefixes_file_phy_raw_aio)
{
	ok("file:/a/b", NULL);
	ck_assert_str_eq(p.path, "/a/b");
	ck_assert_int_eq(p.phy, 0);
	ok("phy:/dev/vg0/guest", NULL);
	ck_assert_str_eq(p.path, "/dev/vg0/guest");
	ck_assert_int_eq(p.phy, 1);
	ok("raw:/x", NULL);
	ck_assert_str_eq(p.path, "/x");
	ok("aio:/y", NULL);
	ck_assert_str_eq(p.path, "/y");
}
END_TEST

START_TEST(type_key_phy_or_file)
{
	ok("/dev/sdb", "phy");
	ck_assert_int_eq(p.phy, 1);
	ok("/img", "file");
	ck_assert_int_eq(p.phy, 0);
	ok("/img", "");
	bad("/img", "tap");
	bad("/img", "qdisk");
}
END_TEST

START_TEST(rejects_relative_empty_unknown_and_long)
{
	char longp[PATH_MAX + 10];

	bad("", NULL);
	bad(NULL, NULL);
	bad("disk.img", NULL);
	bad("file:disk.img", NULL);
	bad("qcow2:/x.qcow2", NULL);
	bad("iscsi://x", NULL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	bad(longp, NULL);
}
END_TEST

START_TEST(nbd_tcp_host_port_export)
{
	ok("nbd://storage.example:10810/vm1", NULL);
	ck_assert_int_eq(p.kind, BLKBK_BACKING_NBD);
	ck_assert_str_eq(p.host, "storage.example");
	ck_assert_str_eq(p.port, "10810");
	ck_assert_str_eq(p.export_name, "vm1");
	ck_assert_str_eq(p.socket, "");
}
END_TEST

START_TEST(nbd_tcp_defaults_and_ipv6)
{
	ok("nbd://10.0.0.1", NULL);
	ck_assert_str_eq(p.host, "10.0.0.1");
	ck_assert_str_eq(p.port, "10809");
	ck_assert_str_eq(p.export_name, "");
	ok("nbd://[::1]:2000/a%20b", NULL);
	ck_assert_str_eq(p.host, "::1");
	ck_assert_str_eq(p.port, "2000");
	ck_assert_str_eq(p.export_name, "a b");
	ok("nbd://[fe80::1]/e", NULL);
	ck_assert_str_eq(p.port, "10809");
}
END_TEST

START_TEST(nbd_tcp_rejects_bad_host_port_escape)
{
	bad("nbd://", NULL);
	bad("nbd:///export", NULL);
	bad("nbd://h:0/e", NULL);
	bad("nbd://h:65536/e", NULL);
	bad("nbd://h:-1/e", NULL);
	bad("nbd://h:12ab/e", NULL);
	bad("nbd://h:/e", NULL);
	bad("nbd://[::1/e", NULL);
	bad("nbd://[]:1/e", NULL);
	bad("nbd://[::1]x/e", NULL);
	bad("nbd://h/%zz", NULL);
	bad("nbd://h/a%00b", NULL);
}
END_TEST

START_TEST(nbd_unix_socket)
{
	ok("nbd+unix:///disk?socket=/run/qemu-nbd.sock", NULL);
	ck_assert_int_eq(p.kind, BLKBK_BACKING_NBD);
	ck_assert_str_eq(p.export_name, "disk");
	ck_assert_str_eq(p.socket, "/run/qemu-nbd.sock");
	ok("nbd+unix:///?socket=/s", NULL);
	ck_assert_str_eq(p.export_name, "");
}
END_TEST

START_TEST(nbd_unix_rejects)
{
	char longs[200];

	bad("nbd+unix:///disk", NULL);
	bad("nbd+unix://host/disk?socket=/s", NULL);
	bad("nbd+unix:///disk?socket=rel/s", NULL);
	bad("nbd+unix:///disk?socket=/s&x=1", NULL);
	bad("nbd+unix:///disk?sock=/s", NULL);
	snprintf(longs, sizeof(longs), "nbd+unix:///d?socket=/%0150d", 0);
	bad(longs, NULL);
}
END_TEST

START_TEST(desc_names_the_backing)
{
	char buf[256];

	ok("phy:/dev/sdb", NULL);
	blkbk_params_desc(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "phy:/dev/sdb");
	ok("nbd://h:1/e", NULL);
	blkbk_params_desc(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "nbd://h:1/e");
	ok("nbd+unix:///e?socket=/s", NULL);
	blkbk_params_desc(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "nbd+unix:///e?socket=/s");
}
END_TEST

START_TEST(protocol_key)
{
	enum blkbk_abi abi = BLKBK_ABI_X86_64;

	ck_assert_int_eq(blkbk_parse_protocol(NULL, &abi), 0);
	ck_assert_int_eq(abi, BLKBK_ABI_NATIVE);
	ck_assert_int_eq(blkbk_parse_protocol("", &abi), 0);
	ck_assert_int_eq(abi, BLKBK_ABI_NATIVE);
	ck_assert_int_eq(blkbk_parse_protocol("x86_32-abi", &abi), 0);
	ck_assert_int_eq(abi, BLKBK_ABI_X86_32);
	ck_assert_int_eq(blkbk_parse_protocol("x86_64-abi", &abi), 0);
#if defined(__x86_64__)
	/* the native name is checked first: same layout */
	ck_assert_int_eq(abi, BLKBK_ABI_NATIVE);
	ck_assert_int_eq(blkbk_parse_protocol("arm-abi", &abi), -EINVAL);
#endif
	ck_assert_int_eq(blkbk_parse_protocol("x86_32", &abi), -EINVAL);
	ck_assert_int_eq(blkbk_parse_protocol("x86_32-abi ", &abi), -EINVAL);
}
END_TEST

static Suite *blk_params_suite(void)
{
	Suite *s = suite_create("blk_params");
	TCase *tc = tcase_create("params");

	tcase_add_test(tc, bare_path_is_a_file);
	tcase_add_test(tc, prefixes_file_phy_raw_aio);
	tcase_add_test(tc, type_key_phy_or_file);
	tcase_add_test(tc, rejects_relative_empty_unknown_and_long);
	tcase_add_test(tc, nbd_tcp_host_port_export);
	tcase_add_test(tc, nbd_tcp_defaults_and_ipv6);
	tcase_add_test(tc, nbd_tcp_rejects_bad_host_port_escape);
	tcase_add_test(tc, nbd_unix_socket);
	tcase_add_test(tc, nbd_unix_rejects);
	tcase_add_test(tc, desc_names_the_backing);
	tcase_add_test(tc, protocol_key);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blk_params_suite)
