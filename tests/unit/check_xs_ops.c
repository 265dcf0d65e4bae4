/* check_xs_ops.c - the protocol: every operation through the framing and
 * the op table, malformed and hostile requests, error names. */
#include "config.h"

#include <jansson.h>

#include "check_main.h"
#include "xenstored/mem-conn.h"
#include "xenstored/ops.h"
#include "xs-wire-compat.h"

static struct xs_store st;
static struct tconn *a, *g;

static void setup(void)
{
	ck_assert_int_eq(xs_store_init(&st), 0);
	a = t_conn(&st, 0, true);
	g = t_conn(&st, 5, false);
}

static void teardown(void)
{
	t_free(a);
	t_free(g);
	xs_store_free(&st);
}

START_TEST(write_read_mkdir_rm_directory)
{
	char v[32];

	ck_assert_int_eq(t_write(a, 0, "/w/a", "hello"), 0);
	ck_assert_str_eq(a->reply.p, "OK");
	ck_assert_int_eq(t_read(a, 0, "/w/a", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "hello");
	ck_assert_int_eq(t_strs(a, XS_MKDIR, 0, "/w/b", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_MKDIR, 0, "/w/b", NULL),
			 0); /* exists: ok */
	ck_assert_int_eq(t_read(a, 0, "/w/b", v, sizeof(v)), 0);
	ck_assert_uint_eq(a->reply.len, 0);
	ck_assert_int_eq(t_strs(a, XS_DIRECTORY, 0, "/w", NULL), 0);
	ck_assert_uint_eq(a->reply.len, 4);
	ck_assert_mem_eq(a->reply.p, "a\0b\0", 4);
	ck_assert_int_eq(t_strs(a, XS_RM, 0, "/w/a", NULL), 0);
	ck_assert_int_eq(t_read(a, 0, "/w/a", v, sizeof(v)), -ENOENT);
	/* rm of a missing node whose parent exists is fine */
	ck_assert_int_eq(t_strs(a, XS_RM, 0, "/w/a", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_RM, 0, "/w/a/b", NULL), -ENOENT);
	ck_assert_int_eq(t_strs(a, XS_RM, 0, "/", NULL), -EINVAL);
}
END_TEST

START_TEST(binary_values_round_trip)
{
	static const char val[] = { 'a', 0, 'b', 0, (char)0xff };
	struct xs_buf b = { 0 };

	xs_buf_addstr(&b, "/bin");
	xs_buf_add(&b, val, sizeof(val));
	ck_assert_int_eq(t_call(a, XS_WRITE, 0, b.p, b.len), 0);
	ck_assert_int_eq(t_strs(a, XS_READ, 0, "/bin", NULL), 0);
	ck_assert_uint_eq(a->reply.len, sizeof(val));
	ck_assert_mem_eq(a->reply.p, val, sizeof(val));
	xs_buf_free(&b);
}
END_TEST

START_TEST(get_and_set_perms)
{
	ck_assert_int_eq(t_write(a, 0, "/p", "x"), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "/p", NULL), 0);
	ck_assert_mem_eq(a->reply.p, "n0\0", 3);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/p", "w5", "r6", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "/p", NULL), 0);
	ck_assert_uint_eq(a->reply.len, 6);
	ck_assert_mem_eq(a->reply.p, "w5\0r6\0", 6);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/p", "q5", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/p", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "@releaseDomain", NULL), 0);
	ck_assert_mem_eq(a->reply.p, "n0\0", 3);
}
END_TEST

START_TEST(guest_sees_eacces_or_enoent_by_parent_rights)
{
	char v[16];

	/* /secret is n0: the guest may not know what is below it */
	ck_assert_int_eq(t_write(a, 0, "/secret/x", "1"), 0);
	ck_assert_int_eq(t_read(g, 0, "/secret/x", v, sizeof(v)), -EACCES);
	ck_assert_int_eq(t_read(g, 0, "/secret/none", v, sizeof(v)), -EACCES);
	/* /pub is r0 (readable by all): a missing child is ENOENT */
	ck_assert_int_eq(t_write(a, 0, "/pub", ""), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/pub", "r0", NULL), 0);
	ck_assert_int_eq(t_read(g, 0, "/pub/none", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_read(g, 0, "/pub", v, sizeof(v)), 0);
	ck_assert_int_eq(t_write(g, 0, "/pub", "no"), -EACCES);
	ck_assert_int_eq(t_write(g, 0, "/pub/new", "no"), -EACCES);
}
END_TEST

START_TEST(created_nodes_inherit_and_guest_owns)
{
	ck_assert_int_eq(t_write(a, 0, "/local/domain/5", ""), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/5", "n0",
				"b5", NULL),
			 0);
	ck_assert_int_eq(t_write(g, 0, "data/x", "1"), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "/local/domain/5/data/x",
				NULL),
			 0);
	/* owner 5 (the creator), rest inherited */
	ck_assert_uint_eq(a->reply.len, 6);
	ck_assert_mem_eq(a->reply.p, "n5\0b5\0", 6);
	/* dom0 creating keeps the parent's list unchanged */
	ck_assert_int_eq(t_write(a, 0, "/local/domain/5/by0", "1"), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "/local/domain/5/by0", NULL),
			 0);
	ck_assert_mem_eq(a->reply.p, "n0\0b5\0", 6);
}
END_TEST

START_TEST(guest_cannot_give_nodes_away)
{
	ck_assert_int_eq(t_write(a, 0, "/local/domain/5", ""), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/5", "n5",
				NULL),
			 0);
	ck_assert_int_eq(t_strs(g, XS_SET_PERMS, 0, "", "n6", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(g, XS_SET_PERMS, 0, "/local/domain/5", "n6",
				NULL),
			 -EPERM);
	ck_assert_int_eq(t_strs(g, XS_SET_PERMS, 0, "/local/domain/5", "n5",
				"r6", NULL),
			 0);
}
END_TEST

START_TEST(directory_part_chunks_and_ends_with_empty_string)
{
	char p[64];
	unsigned off = 0, total = 0, seen = 0, calls = 0;
	char offs[16];
	int i;

	for (i = 0; i < 400; i++) {
		snprintf(p, sizeof(p), "/dp/child-with-a-longish-name-%03d", i);
		ck_assert_int_eq(t_write(a, 0, p, ""), 0);
		total += (unsigned)strlen(p) - 4 + 1;
	}
	for (;;) {
		const char *q, *end;

		snprintf(offs, sizeof(offs), "%u", off);
		ck_assert_int_eq(t_strs(a, XS_DIRECTORY_PART, 0, "/dp", offs,
					NULL),
				 0);
		ck_assert_uint_le(a->reply.len, XENSTORE_PAYLOAD_MAX);
		calls++;
		q = a->reply.p + strlen(a->reply.p) + 1; /* after generation */
		end = a->reply.p + a->reply.len;
		while (q < end && *q) {
			seen++;
			off += (unsigned)strlen(q) + 1;
			q += strlen(q) + 1;
		}
		if (q < end && *q == '\0')
			break;
		ck_assert_uint_lt(calls, 20);
	}
	ck_assert_uint_eq(seen, 400);
	ck_assert_uint_eq(off, total);
	ck_assert_uint_gt(calls, 1);
	/* a plain DIRECTORY of the same is too big */
	ck_assert_int_eq(t_strs(a, XS_DIRECTORY, 0, "/dp", NULL), -E2BIG);
}
END_TEST

START_TEST(domain_ops_need_privilege)
{
	ck_assert_int_eq(t_strs(g, XS_INTRODUCE, 0, "9", "1", "2", NULL),
			 -EACCES);
	ck_assert_int_eq(t_strs(g, XS_RELEASE, 0, "9", NULL), -EACCES);
	ck_assert_int_eq(t_strs(g, XS_IS_DOMAIN_INTRODUCED, 0, "9", NULL),
			 -EACCES);
	ck_assert_int_eq(t_strs(g, XS_SET_TARGET, 0, "9", "5", NULL), -EACCES);
	ck_assert_int_eq(t_strs(g, XS_RESUME, 0, "9", NULL), -EACCES);
}
END_TEST

START_TEST(introduce_release_is_introduced_resume_set_target)
{
	ck_assert_int_eq(t_strs(a, XS_IS_DOMAIN_INTRODUCED, 0, "9", NULL), 0);
	ck_assert_str_eq(a->reply.p, "F");
	ck_assert_int_eq(t_strs(a, XS_IS_DOMAIN_INTRODUCED, 0, "0", NULL), 0);
	ck_assert_str_eq(a->reply.p, "T");
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "9", "1234", "0", NULL),
			 -EINVAL); /* port 0 */
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "9", "1234", "4294967296",
				NULL),
			 -EINVAL); /* port over 32 bits */
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "9",
				"99999999999999999999999", "7", NULL),
			 -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "65536", "1", "7", NULL),
			 -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "9", "1234", "7", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_IS_DOMAIN_INTRODUCED, 0, "9", NULL), 0);
	ck_assert_str_eq(a->reply.p, "T");
	ck_assert_uint_eq(xs_domain_find(&st, 9)->mfn, 1234);
	ck_assert_uint_eq(xs_domain_find(&st, 9)->port, 7);
	ck_assert_int_eq(t_strs(a, XS_RESUME, 0, "9", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_RESUME, 0, "8", NULL), -ENOENT);
	ck_assert_int_eq(t_strs(a, XS_SET_TARGET, 0, "9", "8", NULL), -ENOENT);
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "8", "1", "3", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_TARGET, 0, "9", "8", NULL), 0);
	ck_assert_int_eq(xs_domain_find(&st, 9)->target, 8);
	ck_assert_int_eq(t_strs(a, XS_RELEASE, 0, "9", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_RELEASE, 0, "9", NULL), -ENOENT);
	ck_assert_int_eq(t_strs(a, XS_RELEASE, 0, "0", NULL), -EINVAL);
	ck_assert_ptr_null(xs_domain_find(&st, 9));
}
END_TEST

START_TEST(release_deletes_what_the_domain_owned)
{
	char v[16];

	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "5", "1", "2", NULL), 0);
	ck_assert_int_eq(t_write(a, 0, "/local/domain/5/dev", "0"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/5", "n0",
				"b5", NULL),
			 0);
	ck_assert_int_eq(t_write(g, 0, "data/mine/deep", "1"), 0);
	ck_assert_int_eq(t_write(a, 0, "/shared", "s"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/shared", "b5", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "@releaseDomain", "n0",
				"r5", NULL),
			 0);
	ck_assert_uint_eq(xs_tree_owned(&st.tree, 5), 4);
	ck_assert_int_eq(t_strs(a, XS_RELEASE, 0, "5", NULL), 0);
	ck_assert_uint_eq(xs_tree_owned(&st.tree, 5), 0);
	ck_assert_int_eq(t_read(a, 0, "/local/domain/5/data", v, sizeof(v)),
			 -ENOENT);
	ck_assert_int_eq(t_read(a, 0, "/shared", v, sizeof(v)), -ENOENT);
	/* dom0's nodes stay */
	ck_assert_int_eq(t_read(a, 0, "/local/domain/5/dev", v, sizeof(v)), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "@releaseDomain", NULL), 0);
	ck_assert_uint_eq(a->reply.len, 3);
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "check", NULL), 0);
}
END_TEST

START_TEST(malformed_payloads_get_einval)
{
	/* READ must be exactly one terminated string */
	ck_assert_int_eq(t_call(a, XS_READ, 0, "/a", 2), -EINVAL);
	ck_assert_int_eq(t_call(a, XS_READ, 0, "/a\0/b\0", 6), -EINVAL);
	ck_assert_int_eq(t_call(a, XS_READ, 0, "", 0), -EINVAL);
	ck_assert_int_eq(t_call(a, XS_WRITE, 0, "/novalue", 8), -EINVAL);
	ck_assert_int_eq(t_call(a, XS_WATCH, 0, "/a\0tok", 6), -EINVAL);
	ck_assert_int_eq(t_call(a, XS_INTRODUCE, 0, "1\0002\0", 4), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_DIRECTORY_PART, 0, "/", "x", NULL),
			 -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_WRITE, 0, "/bad path", "", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_TRANSACTION_END, 0, "T", NULL), -ENOENT);
}
END_TEST

START_TEST(unknown_and_reply_only_types_get_enosys)
{
	ck_assert_int_eq(t_call(a, SPLITDRV_XS_TYPE_COUNT, 0, "", 0), -ENOSYS);
	ck_assert_int_eq(t_call(g, SPLITDRV_XS_TYPE_COUNT, 0, "", 0), -ENOSYS);
	ck_assert_int_eq(t_call(g, 0xffff, 0, "", 0), -ENOSYS); /* INVALID */
	ck_assert_int_eq(t_call(a, 0x7fff, 0, "", 0), -ENOSYS);
	ck_assert_int_eq(t_call(a, XS_WATCH_EVENT, 0, "a\0b\0", 4), -ENOSYS);
	ck_assert_int_eq(t_call(a, XS_ERROR, 0, "EIO\0", 4), -ENOSYS);
	ck_assert_int_eq(t_call(a, XS_SET_TARGET + 1, 0, "", 0), -ENOSYS);
	/* still serving */
	ck_assert_int_eq(t_write(a, 0, "/ok", "1"), 0);
}
END_TEST

START_TEST(oversized_header_drops_only_that_connection)
{
	struct xsd_sockmsg h = { .type = XS_READ,
				 .req_id = 1,
				 .len = XENSTORE_PAYLOAD_MAX + 1 };
	struct tconn *bad = t_conn(&st, 0, true);

	xs_buf_add(&bad->in, &h, sizeof(h));
	ck_assert_int_eq(xs_conn_input(bad->c), -EPROTO);
	t_free(bad);
	ck_assert_int_eq(t_write(a, 0, "/still", "here"), 0);
}
END_TEST

START_TEST(requests_split_across_reads_are_reassembled)
{
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 77, .len = 6 };
	char all[sizeof(h) + 6];
	size_t i;
	char v[8];

	memcpy(all, &h, sizeof(h));
	memcpy(all + sizeof(h), "/s\0abc", 6);
	for (i = 0; i < sizeof(all); i++) {
		xs_buf_add(&a->in, all + i, 1);
		ck_assert_int_eq(xs_conn_input(a->c), 0);
	}
	ck_assert_int_eq(t_read(a, 0, "/s", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "abc");
}
END_TEST

START_TEST(replies_echo_req_id_and_tx_id)
{
	struct xsd_sockmsg h;
	uint32_t tx = t_tx_start(a);

	a->out.len = a->out_off = 0;
	a->next_req = 4000;
	t_write(a, tx, "/e", "1");
	memcpy(&h, a->out.p, sizeof(h));
	ck_assert_uint_eq(h.req_id, 4000);
	ck_assert_uint_eq(h.tx_id, tx);
	ck_assert_uint_eq(h.type, XS_WRITE);
	ck_assert_int_eq(t_tx_end(a, tx, false), 0);
}
END_TEST

START_TEST(short_writes_deliver_whole_messages)
{
	char v[64], path[64], tok[16];
	int i;

	t_max_write = 5;
	t_strs(a, XS_WATCH, 0, "/sw", "tok", NULL);
	for (i = 0; i < 20; i++) {
		snprintf(v, sizeof(v), "value-%d", i);
		ck_assert_int_eq(t_write(a, 0, "/sw/x", v), 0);
		ck_assert_int_eq(t_read(a, 0, "/sw/x", path, sizeof(path)), 0);
		ck_assert_str_eq(path, v);
	}
	t_max_write = 0;
	ck_assert_int_eq(t_event(a, path, sizeof(path), tok, sizeof(tok)), 0);
	ck_assert_str_eq(path, "/sw");
	ck_assert_int_eq(t_nevents(a), 20);
	ck_assert_int_eq(t_event(a, path, sizeof(path), tok, sizeof(tok)), 0);
	ck_assert_str_eq(path, "/sw/x");
	ck_assert_str_eq(tok, "tok");
	ck_assert_uint_eq(a->c->outstanding, 0);
}
END_TEST

START_TEST(control_commands)
{
	json_t *j;

	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "help", NULL), 0);
	ck_assert_ptr_nonnull(strstr(a->reply.p, "memreport"));
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "check", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "nonsense", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "log", "info", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "log", "off", NULL), 0);
	t_write(a, 0, "/m/x", "1");
	t_strs(a, XS_WATCH, 0, "/m", "tok", NULL);
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "memreport", NULL), 0);
	j = json_loads(a->reply.p, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "nodes")),
			 (json_int_t)st.tree.nnodes);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "watches")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(j, "connections")), 2);
	json_decref(j);
}
END_TEST

/* Every type with random payloads, random tx ids, half of them
 * NUL-terminated: replies only, no crash, the store stays consistent. */
START_TEST(random_requests_never_crash)
{
	static const char *const words[] = {
		"/", "/a", "/a/b", "a", "@releaseDomain", "T", "F", "5",
		"0", "r5", "b0",   ""
	};
	struct tconn *u = t_conn(&st, 3, false);
	char buf[600];
	unsigned seed = 12345, i, type, len, k;

	for (i = 0; i < 20000; i++) {
		struct tconn *t = (i & 1) ? a : u;

		seed = seed * 1103515245u + 12345u;
		type = (seed >> 8) % (XS_TYPE_COUNT + 2);
		len = 0;
		for (k = 0; k < ((seed >> 4) & 3); k++) {
			const char *w = words[(seed >> (k * 4)) % 12];

			memcpy(buf + len, w, strlen(w) + 1);
			len += (unsigned)strlen(w) + 1;
		}
		if (seed & 0x10000) {
			unsigned extra = (seed >> 17) % 64;

			for (k = 0; k < extra; k++)
				buf[len + k] = (char)(seed >> (k % 24));
			len += extra;
		}
		t_call(t, type, (seed & 0x20000) ? (seed >> 20) % 4 : 0, buf,
		       len);
		if (!t->c)
			break; /* dropped: fine, but these types never should */
	}
	ck_assert_ptr_nonnull(a->c);
	ck_assert_ptr_nonnull(u->c);
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "check", NULL), 0);
	t_free(u);
}
END_TEST

/*
 * Which types a guest may send, as C xenstored 4.21's wire_funcs has it:
 * EACCES before the handler runs for the privileged ones, anything else
 * for the others (each payload here is valid for its op).
 */
START_TEST(guest_privilege_matches_c_xenstored)
{
	static const struct {
		uint32_t type;
		const char *arg;
		bool priv;
	} ops[] = {
		{ XS_CONTROL, "check", true },
		{ XS_DIRECTORY, "/", false },
		{ XS_READ, "/", false },
		{ XS_GET_PERMS, "/", false },
		{ XS_INTRODUCE, "9", true },
		{ XS_RELEASE, "9", true },
		{ XS_GET_DOMAIN_PATH, "9", false },
		{ XS_IS_DOMAIN_INTRODUCED, "9", true },
		{ XS_RESUME, "9", true },
		{ XS_SET_TARGET, "9", true },
		{ XS_RESET_WATCHES, "", false },
		{ XS_GET_FEATURE, "", false },
		{ XS_SET_FEATURE, "9", true },
		{ XS_GET_QUOTA, "", true },
		{ XS_SET_QUOTA, "nodes", true },
	};
	size_t i;

	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/", "n0", "r5", NULL), 0);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int rc = t_strs(g, ops[i].type, 0, ops[i].arg, NULL);

		if (ops[i].priv)
			ck_assert_msg(rc == -EACCES, "%s: %d, want EACCES",
				      xs_op_name(ops[i].type), rc);
		else
			ck_assert_msg(rc == 0, "%s: %d",
				      xs_op_name(ops[i].type), rc);
	}
}
END_TEST

START_TEST(guest_reset_watches_drops_its_watches_and_transactions)
{
	struct tconn *other = t_conn(&st, 6, false);
	uint32_t tx, otx;
	char v[8];

	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/", "n0", "b5", "b6", NULL),
			 0);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "/w", "mine", NULL), 0);
	ck_assert_int_eq(t_strs(other, XS_WATCH, 0, "/w", "its", NULL), 0);
	tx = t_tx_start(g);
	otx = t_tx_start(other);
	ck_assert_uint_ne(tx, 0);
	ck_assert_uint_ne(otx, 0);
	ck_assert_int_eq(t_write(g, tx, "/w/in-tx", "1"), 0);
	t_drain_events(g);
	t_drain_events(other);
	ck_assert_int_eq(t_strs(g, XS_RESET_WATCHES, 0, "", NULL), 0);
	ck_assert_str_eq(g->reply.p, "OK");
	/* its transaction is gone, and what it wrote in it */
	ck_assert_int_eq(t_tx_end(g, tx, true), -ENOENT);
	ck_assert_int_eq(t_read(a, 0, "/w/in-tx", v, sizeof(v)), -ENOENT);
	/* its watch is gone; the other domain's watch and transaction stay */
	ck_assert_int_eq(t_write(a, 0, "/w", "x"), 0);
	ck_assert_int_eq(t_nevents(g), 0);
	ck_assert_int_eq(t_nevents(other), 1);
	ck_assert_int_eq(t_tx_end(other, otx, true), 0);
	/* the same watch can be set again */
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "/w", "mine", NULL), 0);
	t_free(other);
}
END_TEST

START_TEST(get_feature_own_and_by_domid)
{
	char want[16];

	snprintf(want, sizeof(want), "%u", xs_server_features());
	ck_assert_uint_eq(xs_server_features(),
			  XENSTORE_SERVER_FEATURE_ERROR |
				  XENSTORE_SERVER_FEATURE_WATCHDEPTH |
				  XENSTORE_SERVER_FEATURE_DOMID_ANY);
	ck_assert_int_eq(t_call(g, XS_GET_FEATURE, 0, "", 0), 0);
	ck_assert_str_eq(g->reply.p, want);
	ck_assert_int_eq(t_strs(g, XS_GET_FEATURE, 0, "", NULL), 0);
	ck_assert_str_eq(g->reply.p, want);
	/* a guest may not ask about a domain, not even its own */
	ck_assert_int_eq(t_strs(g, XS_GET_FEATURE, 0, "5", NULL), -EACCES);
	ck_assert_int_eq(t_strs(a, XS_GET_FEATURE, 0, "5", NULL), 0);
	ck_assert_str_eq(a->reply.p, want);
	ck_assert_int_eq(t_strs(a, XS_GET_FEATURE, 0, "x", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_GET_FEATURE, 0, "32757", NULL), -EINVAL);
}
END_TEST

START_TEST(set_feature_before_introduce_only)
{
	struct tconn *g7;

	/* a bit we do not serve (RECONNECTION), garbage, a reserved id */
	ck_assert_int_eq(t_strs(a, XS_SET_FEATURE, 0, "7", "1", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_SET_FEATURE, 0, "7", "2x", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_SET_FEATURE, 0, "32752", "2", NULL),
			 -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_SET_FEATURE, 0, "7", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(a, XS_SET_FEATURE, 0, "7", "6", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_FEATURE, 0, "7", NULL), 0);
	ck_assert_str_eq(a->reply.p, "6");
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "7", "1", "9", NULL), 0);
	ck_assert_uint_eq(xs_domain_find(&st, 7)->features, 6);
	ck_assert_int_eq(t_strs(a, XS_SET_FEATURE, 0, "7", "2", NULL), -EBUSY);
	g7 = t_conn(&st, 7, false);
	ck_assert_int_eq(t_strs(g7, XS_GET_FEATURE, 0, "", NULL), 0);
	ck_assert_str_eq(g7->reply.p, "6");
	/* without DOMID_ANY, a guest may not name it */
	ck_assert_int_eq(t_write(g7, 0, "n", "1"), -EACCES); /* "/" is n0 */
	ck_assert_int_eq(t_write(a, 0, "/local/domain/7/n", "1"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/7/n", "b7",
				NULL),
			 0);
	ck_assert_int_eq(t_strs(g7, XS_SET_PERMS, 0, "n", "n7", "r32757", NULL),
			 -EINVAL);
	ck_assert_int_eq(t_strs(g, XS_SET_PERMS, 0, "/local/domain/5", "n5",
				"r32757", NULL),
			 -EACCES); /* not its node: its rights come first */
	t_free(g7);
	/* release forgets the settings: introduced again, all features */
	ck_assert_int_eq(t_strs(a, XS_RELEASE, 0, "7", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_FEATURE, 0, "7", NULL), 0);
	ck_assert_uint_eq(strtoul(a->reply.p, NULL, 10), xs_server_features());
}
END_TEST

START_TEST(get_quota_lists_names_and_values)
{
	ck_assert_int_eq(t_call(a, XS_GET_QUOTA, 0, "", 0), 0);
	ck_assert_ptr_nonnull(strstr(a->reply.p, "nodes watches transactions"));
	ck_assert_ptr_nonnull(strstr(a->reply.p, " node-size "));
	ck_assert_ptr_nonnull(strstr(a->reply.p, " permissions "));
	ck_assert_int_eq(t_strs(a, XS_GET_QUOTA, 0, "nodes", NULL), 0);
	ck_assert_str_eq(a->reply.p, "1000");
	ck_assert_int_eq(t_strs(a, XS_GET_QUOTA, 0, "node-permissions", NULL),
			 0);
	ck_assert_str_eq(a->reply.p, "5");
	ck_assert_int_eq(t_strs(a, XS_GET_QUOTA, 0, "5", "watches", NULL), 0);
	ck_assert_str_eq(a->reply.p, "128");
	ck_assert_int_eq(t_strs(a, XS_GET_QUOTA, 0, "no-such", NULL), -EINVAL);
	/* C xenstored's memory quota (bytes), by its name */
	ck_assert_int_eq(t_strs(a, XS_GET_QUOTA, 0, "memory", NULL), 0);
	ck_assert_str_eq(a->reply.p, "2621440");
	ck_assert_int_eq(t_strs(a, XS_GET_QUOTA, 0, "5", "nodes", "x", NULL),
			 -EINVAL);
}
END_TEST

START_TEST(set_quota_global_and_per_domain)
{
	static const char *const bad[][3] = {
		{ "nodes", "0", NULL }, /* 0 is refused, as C does */
		{ "nodes", "-1", NULL },   { "nodes", "x", NULL },
		{ "no-such", "5", NULL },  { "5", "no-such", "5" },
		{ "32757", "nodes", "5" },
	};
	char name[24];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(t_strs(a, XS_SET_QUOTA, 0, bad[i][0], bad[i][1],
				     bad[i][2], NULL) == -EINVAL,
			      "SET_QUOTA %s %s %s accepted", bad[i][0],
			      bad[i][1], bad[i][2] ? bad[i][2] : "");
	ck_assert_int_eq(t_strs(a, XS_SET_QUOTA, 0, "nodes", "3", NULL), 0);
	ck_assert_uint_eq(st.quota.val[XS_Q_NODES], 3);
	/* libxl: INTRODUCE, then the domain's own quota */
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "5", "1", "9", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_QUOTA, 0, "5", "nodes", "5", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_QUOTA, 0, "5", "nodes", NULL), 0);
	ck_assert_str_eq(a->reply.p, "5");
	ck_assert_int_eq(t_strs(a, XS_GET_QUOTA, 0, "nodes", NULL), 0);
	ck_assert_str_eq(a->reply.p, "3");
	/* domain 5 may own 5 nodes, another domain 3 */
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/", "n0", "b5", "b6", NULL),
			 0);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "/q5-%zu", i);
		ck_assert_int_eq(t_write(g, 0, name, "1"), 0);
	}
	ck_assert_int_eq(t_write(g, 0, "/q5-over", "1"), -ENOSPC);
	{
		struct tconn *g6 = t_conn(&st, 6, false);

		for (i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "/q6-%zu", i);
			ck_assert_int_eq(t_write(g6, 0, name, "1"), 0);
		}
		ck_assert_int_eq(t_write(g6, 0, "/q6-over", "1"), -ENOSPC);
		t_free(g6);
	}
	/* per-domain watch quota */
	ck_assert_int_eq(t_strs(a, XS_SET_QUOTA, 0, "5", "watches", "1", NULL),
			 0);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "/a", "1", NULL), 0);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "/b", "2", NULL), -E2BIG);
}
END_TEST

/*
 * As Debian's C xenstored 4.17 answered, run beside ours (the shim of
 * shared/anchors/xenstored): an entry for a domain nobody introduced, or
 * a reserved id, is kept. (C also says ENOENT for an owner the
 * hypervisor does not know; we have no hypervisor to ask here and accept
 * it, see check_perm_domids.)
 */
START_TEST(set_perms_naming_unknown_domains)
{
	ck_assert_int_eq(t_write(a, 0, "/p", "1"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/p", "n0", "r77", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "/p", NULL), 0);
	ck_assert_mem_eq(a->reply.p, "n0\0r77\0", 8);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/p", "n0", "r32754", NULL),
			 0); /* DOMID_IO */
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/p", "n0", "r32757", NULL),
			 0); /* DOMID_ANY */
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/p", "n78", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "/p", NULL), 0);
	ck_assert_mem_eq(a->reply.p, "n78\0", 4);
}
END_TEST

START_TEST(domid_any_lets_every_guest_read)
{
	char v[8];

	ck_assert_int_eq(t_write(a, 0, "/pub", "hi"), 0);
	ck_assert_int_eq(t_read(g, 0, "/pub", v, sizeof(v)), -EACCES);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/pub", "n0", "r32757",
				NULL),
			 0);
	ck_assert_int_eq(t_read(g, 0, "/pub", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "hi");
	ck_assert_int_eq(t_write(g, 0, "/pub", "no"), -EACCES);
}
END_TEST

static Suite *ops_suite(void)
{
	Suite *s = suite_create("xs_ops");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, write_read_mkdir_rm_directory);
	tcase_add_test(tc, binary_values_round_trip);
	tcase_add_test(tc, get_and_set_perms);
	tcase_add_test(tc, guest_sees_eacces_or_enoent_by_parent_rights);
	tcase_add_test(tc, created_nodes_inherit_and_guest_owns);
	tcase_add_test(tc, guest_cannot_give_nodes_away);
	tcase_add_test(tc, directory_part_chunks_and_ends_with_empty_string);
	tcase_add_test(tc, domain_ops_need_privilege);
	tcase_add_test(tc, introduce_release_is_introduced_resume_set_target);
	tcase_add_test(tc, release_deletes_what_the_domain_owned);
	tcase_add_test(tc, malformed_payloads_get_einval);
	tcase_add_test(tc, unknown_and_reply_only_types_get_enosys);
	tcase_add_test(tc, oversized_header_drops_only_that_connection);
	tcase_add_test(tc, requests_split_across_reads_are_reassembled);
	tcase_add_test(tc, replies_echo_req_id_and_tx_id);
	tcase_add_test(tc, short_writes_deliver_whole_messages);
	tcase_add_test(tc, control_commands);
	tcase_add_test(tc, random_requests_never_crash);
	tcase_add_test(tc, guest_privilege_matches_c_xenstored);
	tcase_add_test(tc,
		       guest_reset_watches_drops_its_watches_and_transactions);
	tcase_add_test(tc, get_feature_own_and_by_domid);
	tcase_add_test(tc, set_feature_before_introduce_only);
	tcase_add_test(tc, get_quota_lists_names_and_values);
	tcase_add_test(tc, set_quota_global_and_per_domain);
	tcase_add_test(tc, set_perms_naming_unknown_domains);
	tcase_add_test(tc, domid_any_lets_every_guest_read);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(ops_suite)
