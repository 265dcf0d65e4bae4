/* check_xs_persist.c - snapshot + journal: what a restart and a crash
 * bring back, torn records, stale journals. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "xenstored/mem-conn.h"

static char dir[64], crash[64];

static void setup(void)
{
	strcpy(dir, "/tmp/check_xs_persist.XXXXXX");
	strcpy(crash, "/tmp/check_xs_persist.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_nonnull(mkdtemp(crash));
}

static void rmdir_files(const char *d)
{
	static const char *f[] = { "xenstored.db", "xenstored.journal",
				   "xenstored.db.tmp", "xenstored.lock" };
	char p[128];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", d, f[i]);
		unlink(p);
	}
	rmdir(d);
}

static void teardown(void)
{
	rmdir_files(dir);
	rmdir_files(crash);
}

static void copy_file(const char *from_dir, const char *to_dir,
		      const char *name, off_t cut)
{
	char from[128], to[128], buf[65536];
	int in, out;
	ssize_t n;

	snprintf(from, sizeof(from), "%s/%s", from_dir, name);
	snprintf(to, sizeof(to), "%s/%s", to_dir, name);
	in = open(from, O_RDONLY);
	ck_assert_int_ge(in, 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	if (cut > 0)
		ck_assert_int_eq(ftruncate(out, lseek(out, 0, SEEK_END) - cut),
				 0);
	close(out);
}

/* What a kill -9 leaves: the files as they are now, no final snapshot. */
static void crash_copy(off_t cut_journal)
{
	copy_file(dir, crash, "xenstored.db", 0);
	copy_file(dir, crash, "xenstored.journal", cut_journal);
}

static off_t journal_size(const char *d)
{
	char p[128];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/xenstored.journal", d);
	ck_assert_int_eq(stat(p, &sb), 0);
	return sb.st_size;
}

struct run {
	struct xs_store st;
	struct xs_persist *p;
	struct tconn *a;
};

static void start(struct run *r, const char *d)
{
	ck_assert_int_eq(xs_store_init(&r->st), 0);
	r->p = xs_persist_open(&r->st, d);
	ck_assert_ptr_nonnull(r->p);
	r->a = t_conn(&r->st, 0, true);
}

static void stop(struct run *r, bool clean)
{
	t_free(r->a);
	if (clean) {
		xs_persist_close(r->p);
	} else {
		xs_persist_abandon(r->p); /* no final snapshot */
	}
	xs_store_free(&r->st);
}

START_TEST(clean_restart_keeps_nodes_perms_domains)
{
	struct run r;
	char v[16];

	start(&r, dir);
	ck_assert_int_eq(t_write(r.a, 0, "/a/b", "v1"), 0);
	ck_assert_int_eq(t_strs(r.a, XS_SET_PERMS, 0, "/a/b", "r5", "w6", NULL),
			 0);
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "5", "777", "3", NULL), 0);
	ck_assert_int_eq(t_strs(r.a, XS_SET_PERMS, 0, "@releaseDomain", "n0",
				"r5", NULL),
			 0);
	stop(&r, true);

	start(&r, dir);
	ck_assert_int_eq(t_read(r.a, 0, "/a/b", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "v1");
	ck_assert_int_eq(t_strs(r.a, XS_GET_PERMS, 0, "/a/b", NULL), 0);
	ck_assert_mem_eq(r.a->reply.p, "r5\0w6\0", 6);
	ck_assert_ptr_nonnull(xs_domain_find(&r.st, 5));
	ck_assert_uint_eq(xs_domain_find(&r.st, 5)->mfn, 777);
	ck_assert_int_eq(t_strs(r.a, XS_GET_PERMS, 0, "@releaseDomain", NULL),
			 0);
	ck_assert_mem_eq(r.a->reply.p, "n0\0r5\0", 6);
	ck_assert_uint_eq(xs_tree_owned(&r.st.tree, 5), 1);
	stop(&r, true);
}
END_TEST

START_TEST(crash_keeps_every_acknowledged_change)
{
	struct run r;
	char v[16];

	start(&r, dir);
	ck_assert_int_eq(t_write(r.a, 0, "/k/1", "one"), 0);
	ck_assert_int_eq(t_write(r.a, 0, "/k/2", "two"), 0);
	ck_assert_int_eq(t_strs(r.a, XS_RM, 0, "/k/1", NULL), 0);
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "4", "1", "2", NULL), 0);
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "6", "1", "2", NULL), 0);
	ck_assert_int_eq(t_strs(r.a, XS_RELEASE, 0, "6", NULL), 0);
	/* settings of a domain that died before it was introduced */
	ck_assert_int_eq(t_strs(r.a, XS_SET_QUOTA, 0, "8", "nodes", "4", NULL),
			 0);
	xs_domain_died(&r.st, 8);
	crash_copy(0);
	stop(&r, true);

	start(&r, crash);
	ck_assert_int_eq(t_read(r.a, 0, "/k/2", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "two");
	ck_assert_int_eq(t_read(r.a, 0, "/k/1", v, sizeof(v)), -ENOENT);
	ck_assert_ptr_nonnull(xs_domain_find(&r.st, 4));
	ck_assert_ptr_null(xs_domain_find(&r.st, 6));
	stop(&r, true);
}
END_TEST

START_TEST(domain_death_outside_a_request_is_journalled)
{
	struct run r;

	start(&r, dir);
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "8", "1", "2", NULL), 0);
	ck_assert_int_eq(t_write(r.a, 0, "/local/domain/8/x", "1"), 0);
	ck_assert_int_eq(t_strs(r.a, XS_SET_PERMS, 0, "/local/domain/8/x", "n8",
				NULL),
			 0);
	xs_domain_died(&r.st, 8); /* the hv layer's event */
	crash_copy(0);
	stop(&r, true);
	start(&r, crash);
	ck_assert_ptr_null(xs_domain_find(&r.st, 8));
	ck_assert_ptr_null(xs_tree_get(&r.st.tree, "/local/domain/8/x"));
	stop(&r, true);
}
END_TEST

START_TEST(torn_last_record_is_cut_and_rest_kept)
{
	struct run r;
	char v[16];

	start(&r, dir);
	ck_assert_int_eq(t_write(r.a, 0, "/t/first", "1"), 0);
	ck_assert_int_eq(t_write(r.a, 0, "/t/second", "2"), 0);
	crash_copy(3); /* the second write's record lost its last bytes */
	stop(&r, true);

	start(&r, crash);
	ck_assert_int_eq(t_read(r.a, 0, "/t/first", v, sizeof(v)), 0);
	ck_assert_int_eq(t_read(r.a, 0, "/t/second", v, sizeof(v)), -ENOENT);
	/* and the store goes on journalling after the cut */
	ck_assert_int_eq(t_write(r.a, 0, "/t/third", "3"), 0);
	stop(&r, true);
	start(&r, crash);
	ck_assert_int_eq(t_read(r.a, 0, "/t/third", v, sizeof(v)), 0);
	stop(&r, true);
}
END_TEST

START_TEST(transaction_is_one_record)
{
	struct run r;
	uint32_t tx;
	off_t before;
	char v[16];

	start(&r, dir);
	before = journal_size(dir);
	tx = t_tx_start(r.a);
	ck_assert_int_eq(t_write(r.a, tx, "/tx/a", "1"), 0);
	ck_assert_int_eq(t_write(r.a, tx, "/tx/b", "2"), 0);
	ck_assert_int_eq(journal_size(dir), before);
	ck_assert_int_eq(t_tx_end(r.a, tx, true), 0);
	ck_assert_int_gt(journal_size(dir), before);
	/* a crash tearing the commit's record loses the whole transaction */
	crash_copy(1);
	stop(&r, true);
	start(&r, crash);
	ck_assert_int_eq(t_read(r.a, 0, "/tx/a", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_read(r.a, 0, "/tx/b", v, sizeof(v)), -ENOENT);
	stop(&r, true);
}
END_TEST

START_TEST(stale_journal_after_snapshot_is_ignored)
{
	struct run r;
	char v[16];

	start(&r, dir);
	ck_assert_int_eq(t_write(r.a, 0, "/s/x", "1"), 0);
	/* keep the journal that holds "create /s/x" */
	copy_file(dir, crash, "xenstored.journal", 0);
	ck_assert_int_eq(t_strs(r.a, XS_RM, 0, "/s/x", NULL), 0);
	/* snapshot (new epoch) lands, then we "crash" before the journal
	 * restart: the old journal sits beside the new snapshot */
	ck_assert_int_eq(xs_persist_snapshot(r.p), 0);
	copy_file(dir, crash, "xenstored.db", 0);
	stop(&r, true);
	start(&r, crash);
	ck_assert_int_eq(t_read(r.a, 0, "/s/x", v, sizeof(v)), -ENOENT);
	stop(&r, true);
}
END_TEST

START_TEST(second_store_on_same_dir_is_refused)
{
	struct run r;
	struct xs_store other;

	start(&r, dir);
	ck_assert_int_eq(xs_store_init(&other), 0);
	errno = 0;
	ck_assert_ptr_null(xs_persist_open(&other, dir));
	ck_assert_int_eq(errno, EBUSY);
	xs_store_free(&other);
	stop(&r, true);
	/* released with the first */
	start(&r, dir);
	stop(&r, true);
}
END_TEST

START_TEST(garbage_files_start_empty_not_crash)
{
	struct run r;
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/xenstored.db", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "XSDSNAP1garbagegarbage", 22), 22);
	close(fd);
	snprintf(p, sizeof(p), "%s/xenstored.journal", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "not a journal at all", 20), 20);
	close(fd);
	start(&r, dir);
	ck_assert_ptr_nonnull(xs_tree_get(&r.st.tree, "/tool/xenstored"));
	stop(&r, true);
}
END_TEST

START_TEST(journal_compacts_into_snapshot)
{
	struct run r;
	char big[1500];
	int i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	start(&r, dir);
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(t_write(r.a, 0, "/c/x", big), 0);
	/* 3 MB written, the journal stays bounded */
	ck_assert_int_lt(journal_size(dir), 2 << 20);
	stop(&r, false);
	start(&r, dir);
	ck_assert_ptr_nonnull(xs_tree_get(&r.st.tree, "/c/x"));
	stop(&r, true);
}
END_TEST

/* A dead domain's id stays scrubbed from other domains' nodes after a
 * crash: the rewrite is journalled like any change. */
START_TEST(dead_domains_acl_entries_stay_gone_after_crash)
{
	struct run r;
	struct tconn *g5;
	char v[16];

	start(&r, dir);
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "5", "100", "7", NULL), 0);
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "6", "101", "8", NULL), 0);
	ck_assert_int_eq(t_write(r.a, 0, "/local/domain/6/s", "secret"), 0);
	ck_assert_int_eq(t_strs(r.a, XS_SET_PERMS, 0, "/local/domain/6/s", "n6",
				"r5", NULL),
			 0);
	ck_assert_int_eq(t_strs(r.a, XS_RELEASE, 0, "5", NULL), 0);
	stop(&r, false);

	start(&r, dir);
	ck_assert_int_eq(t_strs(r.a, XS_GET_PERMS, 0, "/local/domain/6/s", NULL),
			 0);
	ck_assert_uint_eq(r.a->reply.len, 3);
	ck_assert_mem_eq(r.a->reply.p, "n6\0", 3);
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "5", "100", "7", NULL), 0);
	g5 = t_conn(&r.st, 5, false);
	ck_assert_int_eq(t_read(g5, 0, "/local/domain/6/s", v, sizeof(v)),
			 -EACCES);
	t_free(g5);
	stop(&r, true);
}
END_TEST

/* Let the process write files of at most max bytes (RLIMIT_FSIZE): a
 * write past it fails with EFBIG, as a full disk fails with ENOSPC. */
static void limit_file_size(rlim_t max)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

/*
 * A change that cannot reach the journal is not acknowledged: the
 * request gets EIO, the journal is not torn, and the change is written
 * with the next record that can be, so disk and memory agree again.
 */
/* A ring connection's watches (the ring transport sets keep_watches) are
 * journalled and come back on its connection after a crash, with one
 * event each; a socket client's do not; a reset is journalled too. */
START_TEST(ring_watches_survive_a_crash)
{
	struct run r;
	struct tconn *g, *s;
	char path[64], tok[16];

	start(&r, dir);
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "5", "1", "2", NULL), 0);
	/* the guest's home, its own (events need read permission) */
	ck_assert_int_eq(t_write(r.a, 0, "/local/domain/5/data", ""), 0);
	ck_assert_int_eq(t_strs(r.a, XS_SET_PERMS, 0, "/local/domain/5/data",
				"n5", NULL),
			 0);
	g = t_conn(&r.st, 5, false);
	g->c->keep_watches = true;
	s = t_conn(&r.st, 0, true);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "data/w", "t1", NULL), 0);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "@releaseDomain", "t2", NULL),
			 0);
	ck_assert_int_eq(t_strs(g, XS_UNWATCH, 0, "@releaseDomain", "t2", NULL),
			 0);
	ck_assert_int_eq(t_strs(s, XS_WATCH, 0, "/sock", "t3", NULL), 0);
	crash_copy(0);
	t_free(g);
	t_free(s);
	stop(&r, true);

	start(&r, crash);
	g = t_conn(&r.st, 5, false);
	g->c->keep_watches = true;
	ck_assert_uint_eq(xs_watch_restore(&r.st, g->c), 1);
	ck_assert_uint_eq(r.st.watches.count, 1); /* not the socket's */
	ck_assert_int_eq(t_event(g, path, sizeof(path), tok, sizeof(tok)), 0);
	ck_assert_str_eq(path, "data/w");
	ck_assert_str_eq(tok, "t1");
	ck_assert_int_eq(t_write(r.a, 0, "/local/domain/5/data/w", "x"), 0);
	ck_assert_int_eq(t_event(g, path, sizeof(path), tok, sizeof(tok)), 0);
	ck_assert_str_eq(path, "data/w");
	/* the WATCH replayed from the ring after the restart: OK, once */
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "data/w", "t1", NULL), 0);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "data/w", "t1", NULL), -EEXIST);
	ck_assert_int_eq(t_strs(g, XS_RESET_WATCHES, 0, "", NULL), 0);
	crash_copy(0);
	t_free(g);
	stop(&r, true);

	start(&r, crash);
	g = t_conn(&r.st, 5, false);
	ck_assert_uint_eq(xs_watch_restore(&r.st, g->c), 0);
	t_free(g);
	stop(&r, true);
}
END_TEST

START_TEST(failed_journal_write_is_not_acknowledged)
{
	struct run r;
	struct rlimit rl;
	char v[16];
	off_t before;
	int wrc, rrc;

	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	signal(SIGXFSZ, SIG_IGN);
	start(&r, dir);
	ck_assert_int_eq(t_write(r.a, 0, "/a", "1"), 0);
	before = journal_size(dir);
	/* a header, no record; Check's own messages need files too, so
	 * the limit is lifted before anything is asserted */
	limit_file_size(16);
	wrc = t_write(r.a, 0, "/b", "2");
	rrc = t_read(r.a, 0, "/a", v, sizeof(v));
	limit_file_size(rl.rlim_cur);
	ck_assert_int_eq(wrc, -EIO);
	/* reads are not failed by the backlog */
	ck_assert_int_eq(rrc, 0);
	ck_assert_int_eq(journal_size(dir), before);
	crash_copy(0);
	ck_assert_int_eq(t_write(r.a, 0, "/c", "3"), 0);
	stop(&r, false);

	/* what the failed write left on disk loads, without the change */
	start(&r, crash);
	ck_assert_int_eq(t_read(r.a, 0, "/a", v, sizeof(v)), 0);
	ck_assert_int_eq(t_read(r.a, 0, "/b", v, sizeof(v)), -ENOENT);
	stop(&r, true);
	/* and once the journal could be written again, the backlog with it */
	start(&r, dir);
	ck_assert_int_eq(t_read(r.a, 0, "/b", v, sizeof(v)), 0);
	ck_assert_int_eq(t_read(r.a, 0, "/c", v, sizeof(v)), 0);
	stop(&r, true);
}
END_TEST

/* --fsync: the same records, each synced before the reply. */
START_TEST(fsync_journal_keeps_every_change)
{
	struct run r;
	char v[16];

	start(&r, dir);
	xs_persist_set_fsync(r.p, true);
	ck_assert_int_eq(t_write(r.a, 0, "/f", "1"), 0);
	ck_assert_int_gt(journal_size(dir), 16);
	stop(&r, false);
	start(&r, dir);
	ck_assert_int_eq(t_read(r.a, 0, "/f", v, sizeof(v)), 0);
	stop(&r, true);
}
END_TEST

/* XS_SET_FEATURE / XS_SET_QUOTA of a domain, introduced or not yet, come
 * back after a crash (journal) and a clean restart (snapshot); a released
 * domain's settings do not. */
static void check_settings(struct xs_store *st)
{
	struct xs_domain *d = xs_domain_settings(st, 7, false);

	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->features, XENSTORE_SERVER_FEATURE_ERROR);
	ck_assert_uint_eq(d->quota.val[XS_Q_NODES], 55);
	ck_assert_uint_eq(d->quota.val[XS_Q_WATCHES], 0);
	ck_assert_uint_eq(xs_domain_quota(st, 5, XS_Q_WATCHES), 9);
	ck_assert_ptr_null(xs_domain_settings(st, 6, false));
	ck_assert_ptr_null(xs_domain_settings(st, 8, false));
}

START_TEST(domain_settings_survive_crash_and_restart)
{
	struct run r;
	char f[16];

	/* 7: pending settings; 5: its own quota once introduced; 6 and 8:
	 * settings gone with the domain (released; died, never introduced) */
	static const struct {
		uint32_t type;
		const char *a[3];
	} steps[] = {
		{ XS_SET_FEATURE, { "7", NULL } }, /* feature: f below */
		{ XS_SET_QUOTA, { "7", "nodes", "55" } },
		{ XS_INTRODUCE, { "5", "777", "3" } },
		{ XS_SET_QUOTA, { "5", "watches", "9" } },
		{ XS_SET_QUOTA, { "6", "nodes", "3" } },
		{ XS_INTRODUCE, { "6", "778", "4" } },
		{ XS_RELEASE, { "6", NULL } },
		{ XS_SET_QUOTA, { "8", "nodes", "4" } },
	};
	size_t i;

	snprintf(f, sizeof(f), "%u", (unsigned)XENSTORE_SERVER_FEATURE_ERROR);
	start(&r, dir);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const char *a1 =
			steps[i].type == XS_SET_FEATURE ? f : steps[i].a[1];

		ck_assert_msg(t_strs(r.a, steps[i].type, 0, steps[i].a[0], a1,
				     a1 ? steps[i].a[2] : NULL, NULL) == 0,
			      "step %zu", i);
	}
	xs_domain_died(&r.st, 8);
	crash_copy(0);
	stop(&r, true);

	start(&r, crash);
	check_settings(&r.st);
	/* the pending settings are what domain 7 gets when introduced */
	ck_assert_int_eq(t_strs(r.a, XS_INTRODUCE, 0, "7", "779", "5", NULL), 0);
	ck_assert_uint_eq(xs_domain_features(&r.st, 7),
			  XENSTORE_SERVER_FEATURE_ERROR);
	ck_assert_uint_eq(xs_domain_quota(&r.st, 7, XS_Q_NODES), 55);
	stop(&r, false);

	start(&r, dir); /* the snapshot of the clean stop */
	check_settings(&r.st);
	stop(&r, true);
}
END_TEST

/* --fsync: the snapshot's rename is made durable (its directory synced). */
static int dir_fsyncs;
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))
		dir_fsyncs++;
	return __real_fsync(fd);
}

START_TEST(fsync_snapshot_syncs_its_directory)
{
	struct run r;

	start(&r, dir);
	ck_assert_int_eq(t_write(r.a, 0, "/f", "1"), 0);
	dir_fsyncs = 0;
	ck_assert_int_eq(xs_persist_snapshot(r.p), 0);
	ck_assert_int_eq(dir_fsyncs, 0); /* without --fsync: not asked for */
	xs_persist_set_fsync(r.p, true);
	ck_assert_int_eq(xs_persist_snapshot(r.p), 0);
	ck_assert_int_ge(dir_fsyncs, 1);
	stop(&r, true);
}
END_TEST

static Suite *persist_suite(void)
{
	Suite *s = suite_create("xs_persist");
	TCase *tc = tcase_create("persist");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, clean_restart_keeps_nodes_perms_domains);
	tcase_add_test(tc, crash_keeps_every_acknowledged_change);
	tcase_add_test(tc, domain_death_outside_a_request_is_journalled);
	tcase_add_test(tc, torn_last_record_is_cut_and_rest_kept);
	tcase_add_test(tc, transaction_is_one_record);
	tcase_add_test(tc, stale_journal_after_snapshot_is_ignored);
	tcase_add_test(tc, second_store_on_same_dir_is_refused);
	tcase_add_test(tc, garbage_files_start_empty_not_crash);
	tcase_add_test(tc, journal_compacts_into_snapshot);
	tcase_add_test(tc, ring_watches_survive_a_crash);
	suite_add_tcase(s, tc);
	tc = tcase_create("holes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dead_domains_acl_entries_stay_gone_after_crash);
	tcase_add_test(tc, failed_journal_write_is_not_acknowledged);
	tcase_add_test(tc, fsync_journal_keeps_every_change);
	tcase_add_test(tc, domain_settings_survive_crash_and_restart);
	tcase_add_test(tc, fsync_snapshot_syncs_its_directory);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(persist_suite)
