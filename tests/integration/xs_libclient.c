/*
 * xs_libclient.c - a client of our xenstored written against Debian's
 * libxenstore (the library every Xen tool uses), not against our code.
 *
 *   xs_libclient all        transactions, watches, permissions, domains,
 *                           big directories, control, and Xen 4.21's ops
 *                           (raw messages where 4.17's library has no
 *                           call): exit 0 if all pass
 *   xs_libclient populate   write the state the persistence test checks
 *   xs_libclient verify     check that state (after a restart or a crash)
 *
 * The socket comes from $XENSTORED_PATH (libxenstore reads it).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

#include "xs-wire-compat.h"

static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__);   \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, " (errno %s)\n", strerror(errno));     \
			failures++;                                            \
		}                                                              \
	} while (0)

static struct xs_handle *open_or_die(void)
{
	struct xs_handle *h = xs_open(0);

	if (!h) {
		perror("xs_open");
		exit(2);
	}
	return h;
}

static bool value_is(struct xs_handle *h, xs_transaction_t t, const char *p,
		     const char *want)
{
	unsigned len;
	char *v = xs_read(h, t, p, &len);
	bool ok = v && len == strlen(want) && memcmp(v, want, len) == 0;

	free(v);
	return ok;
}

/* Wait for the next watch event; its path into out. */
static bool next_event(struct xs_handle *h, char *out, size_t outlen,
		       const char *want_token)
{
	struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned num;
	char **vec;

	if (poll(&pfd, 1, 2000) != 1)
		return false;
	vec = xs_read_watch(h, &num);
	if (!vec)
		return false;
	snprintf(out, outlen, "%s", vec[XS_WATCH_PATH]);
	if (want_token && strcmp(vec[XS_WATCH_TOKEN], want_token) != 0) {
		free(vec);
		return false;
	}
	free(vec);
	return true;
}

static void test_transaction_conflict(void)
{
	struct xs_handle *h1 = open_or_die(), *h2 = open_or_die();
	xs_transaction_t t;
	unsigned len;
	char *v;
	int tries;

	CHECK(xs_write(h1, XBT_NULL, "/lc/tx/x", "0", 1), "write");
	t = xs_transaction_start(h1);
	CHECK(t != XBT_NULL, "transaction_start");
	v = xs_read(h1, t, "/lc/tx/x", &len);
	free(v);
	CHECK(xs_write(h2, XBT_NULL, "/lc/tx/x", "other", 5), "outside write");
	CHECK(value_is(h1, t, "/lc/tx/x", "0"), "snapshot read inside");
	CHECK(xs_write(h1, t, "/lc/tx/x", "mine", 4), "write inside");
	CHECK(value_is(h1, t, "/lc/tx/x", "mine"), "own write visible");
	CHECK(value_is(h2, XBT_NULL, "/lc/tx/x", "other"), "isolated");
	CHECK(!xs_transaction_end(h1, t, false) && errno == EAGAIN,
	      "conflict gives EAGAIN");
	CHECK(value_is(h2, XBT_NULL, "/lc/tx/x", "other"), "nothing applied");

	/* the usual retry loop succeeds */
	for (tries = 0; tries < 5; tries++) {
		t = xs_transaction_start(h1);
		v = xs_read(h1, t, "/lc/tx/x", &len);
		free(v);
		xs_write(h1, t, "/lc/tx/x", "retried", 7);
		if (xs_transaction_end(h1, t, false))
			break;
		CHECK(errno == EAGAIN, "only EAGAIN");
	}
	CHECK(value_is(h2, XBT_NULL, "/lc/tx/x", "retried"), "retry applied");

	/* abort */
	t = xs_transaction_start(h1);
	xs_write(h1, t, "/lc/tx/x", "aborted", 7);
	CHECK(xs_transaction_end(h1, t, true), "abort");
	CHECK(value_is(h2, XBT_NULL, "/lc/tx/x", "retried"), "abort discards");
	xs_close(h1);
	xs_close(h2);
}

static void test_watches(void)
{
	struct xs_handle *h = open_or_die(), *w = open_or_die();
	char path[256];

	CHECK(xs_watch(w, "/lc/w", "tok"), "watch");
	CHECK(next_event(w, path, sizeof(path), "tok") &&
		      strcmp(path, "/lc/w") == 0,
	      "initial event");
	CHECK(xs_write(h, XBT_NULL, "/lc/w/a/b", "1", 1), "write");
	CHECK(next_event(w, path, sizeof(path), "tok") &&
		      strcmp(path, "/lc/w/a/b") == 0,
	      "recursive event, got %s", path);
	CHECK(xs_rm(h, XBT_NULL, "/lc/w/a"), "rm");
	CHECK(next_event(w, path, sizeof(path), "tok") &&
		      strcmp(path, "/lc/w/a") == 0,
	      "rm event, got %s", path);
	CHECK(xs_unwatch(w, "/lc/w", "tok"), "unwatch");
	CHECK(xs_write(h, XBT_NULL, "/lc/w/c", "1", 1), "write");
	CHECK(!next_event(w, path, sizeof(path), NULL),
	      "no event after unwatch");
	xs_close(h);
	xs_close(w);
}

static void test_permissions(void)
{
	struct xs_handle *h = open_or_die();
	struct xs_permissions set[2] = {
		{ .id = 7, .perms = XS_PERM_NONE },
		{ .id = 9, .perms = XS_PERM_READ | XS_PERM_WRITE },
	};
	struct xs_permissions *got;
	unsigned n = 0;

	CHECK(xs_write(h, XBT_NULL, "/lc/p", "x", 1), "write");
	CHECK(xs_set_permissions(h, XBT_NULL, "/lc/p", set, 2), "set perms");
	got = xs_get_permissions(h, XBT_NULL, "/lc/p", &n);
	CHECK(got && n == 2 && got[0].id == 7 && got[0].perms == XS_PERM_NONE &&
		      got[1].id == 9 &&
		      got[1].perms == (XS_PERM_READ | XS_PERM_WRITE),
	      "get perms");
	free(got);
	CHECK(xs_write(h, XBT_NULL, "/lc/p/child", "x", 1), "child");
	got = xs_get_permissions(h, XBT_NULL, "/lc/p/child", &n);
	CHECK(got && n == 2 && got[0].id == 7, "child inherits");
	free(got);
	xs_close(h);
}

static void test_domains(void)
{
	struct xs_handle *h = open_or_die(), *w = open_or_die();
	char path[64], *dp;

	CHECK(xs_watch(w, "@introduceDomain", "in"), "watch @introduceDomain");
	CHECK(xs_watch(w, "@releaseDomain", "out"), "watch @releaseDomain");
	CHECK(next_event(w, path, sizeof(path), NULL), "initial 1");
	CHECK(next_event(w, path, sizeof(path), NULL), "initial 2");
	CHECK(!xs_is_domain_introduced(h, 12), "not introduced yet");
	CHECK(xs_introduce_domain(h, 12, 4321, 8), "introduce");
	CHECK(next_event(w, path, sizeof(path), "in") &&
		      strcmp(path, "@introduceDomain") == 0,
	      "introduce event");
	CHECK(xs_is_domain_introduced(h, 12), "introduced");
	dp = xs_get_domain_path(h, 12);
	CHECK(dp && strcmp(dp, "/local/domain/12") == 0, "domain path");
	free(dp);
	CHECK(xs_resume_domain(h, 12), "resume");
	CHECK(xs_release_domain(h, 12), "release");
	CHECK(next_event(w, path, sizeof(path), "out") &&
		      strcmp(path, "@releaseDomain") == 0,
	      "release event");
	CHECK(!xs_is_domain_introduced(h, 12), "released");
	xs_close(h);
	xs_close(w);
}

static void test_big_directory(void)
{
	struct xs_handle *h = open_or_die();
	char p[128];
	char **dir;
	unsigned n = 0, i;
	xs_transaction_t t = xs_transaction_start(h);

	for (i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "/lc/big/a-rather-long-child-name-%04u",
			 i);
		xs_write(h, t, p, "", 0);
	}
	CHECK(xs_transaction_end(h, t, false), "populate");
	/* over XENSTORE_PAYLOAD_MAX: libxenstore falls back to DIRECTORY_PART */
	dir = xs_directory(h, XBT_NULL, "/lc/big", &n);
	CHECK(dir && n == 300, "directory of 300, got %u", n);
	free(dir);
	xs_close(h);
}

static void test_control(void)
{
	struct xs_handle *h = open_or_die();
	char *r = xs_control_command(h, "quota", NULL, 0);

	CHECK(r && strstr(r, "transactions"), "control quota");
	free(r);
	r = xs_control_command(h, "memreport", NULL, 0);
	CHECK(r && strstr(r, "\"nodes\""), "control memreport");
	free(r);
	xs_close(h);
}

/* ---- raw messages, for what 4.17's libxenstore cannot send --------- */

/* A connection of our own to $XENSTORED_PATH; -1 on failure. */
static int raw_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("XENSTORED_PATH");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || !path)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 2000) != 1)
			return false;
		n = read(fd, p, len);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * Send type with the NUL-terminated strings of args (a NULL-terminated
 * list; none: an empty payload) and read the reply, skipping watch
 * events. 0 (payload in out, NUL-terminated), the errno of an XS_ERROR
 * reply as -errno, or -EPIPE if no reply came.
 */
static int raw_call(int fd, uint32_t type, const char *const *args, char *out,
		    size_t outlen)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg h = { .type = type, .req_id = 7 };
	size_t i;

	for (i = 0; args && args[i]; i++) {
		memcpy(buf + h.len, args[i], strlen(args[i]) + 1);
		h.len += (uint32_t)strlen(args[i]) + 1;
	}
	if (write(fd, &h, sizeof(h)) != sizeof(h) ||
	    write(fd, buf, h.len) != (ssize_t)h.len)
		return -EPIPE;
	do {
		if (!read_all(fd, &h, sizeof(h)) ||
		    h.len > XENSTORE_PAYLOAD_MAX || !read_all(fd, buf, h.len))
			return -EPIPE;
	} while (h.type == XS_WATCH_EVENT);
	buf[h.len] = '\0';
	i = h.len < outlen ? h.len : outlen - 1;
	memcpy(out, buf, i);
	out[i] = '\0';
	if (h.type != XS_ERROR)
		return 0;
	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(buf, xsd_errors[i].errstring) == 0)
			return -xsd_errors[i].errnum;
	return -1000;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_features_and_quotas(void)
{
	int fd = raw_open();
	char r[256], want[16];

	CHECK(fd >= 0, "raw connection");
	if (fd < 0)
		return;
	snprintf(want, sizeof(want), "%u",
		 XENSTORE_SERVER_FEATURE_ERROR |
			 XENSTORE_SERVER_FEATURE_WATCHDEPTH |
			 XENSTORE_SERVER_FEATURE_DOMID_ANY);
	CHECK(raw_call(fd, XS_GET_FEATURE, NULL, r, sizeof(r)) == 0 &&
		      strcmp(r, want) == 0,
	      "GET_FEATURE: %s", r);
	CHECK(raw_call(fd, XS_SET_FEATURE, ARGS("31", "2"), r, sizeof(r)) == 0,
	      "SET_FEATURE before INTRODUCE: %s", r);
	CHECK(raw_call(fd, XS_GET_FEATURE, ARGS("31"), r, sizeof(r)) == 0 &&
		      strcmp(r, "2") == 0,
	      "GET_FEATURE 31: %s", r);
	CHECK(raw_call(fd, XS_SET_FEATURE, ARGS("31", "1"), r, sizeof(r)) ==
		      -EINVAL,
	      "SET_FEATURE RECONNECTION: %s", r);
	CHECK(raw_call(fd, XS_GET_QUOTA, NULL, r, sizeof(r)) == 0 &&
		      strstr(r, "nodes") && strstr(r, "node-size"),
	      "GET_QUOTA names: %s", r);
	/* libxl 4.21: INTRODUCE, then SET_QUOTA domid name value */
	CHECK(raw_call(fd, XS_INTRODUCE, ARGS("31", "99", "5"), r, sizeof(r)) ==
		      0,
	      "introduce: %s", r);
	CHECK(raw_call(fd, XS_SET_FEATURE, ARGS("31", "2"), r, sizeof(r)) ==
		      -EBUSY,
	      "SET_FEATURE after INTRODUCE: %s", r);
	CHECK(raw_call(fd, XS_SET_QUOTA, ARGS("31", "nodes", "77"), r,
		       sizeof(r)) == 0,
	      "SET_QUOTA 31 nodes: %s", r);
	CHECK(raw_call(fd, XS_GET_QUOTA, ARGS("31", "nodes"), r, sizeof(r)) ==
			      0 &&
		      strcmp(r, "77") == 0,
	      "GET_QUOTA 31 nodes: %s", r);
	CHECK(raw_call(fd, XS_GET_QUOTA, ARGS("nodes"), r, sizeof(r)) == 0 &&
		      strcmp(r, "1000") == 0,
	      "global nodes quota unchanged: %s", r);
	CHECK(raw_call(fd, XS_SET_QUOTA, ARGS("no-such-quota", "1"), r,
		       sizeof(r)) == -EINVAL,
	      "unknown quota: %s", r);
	CHECK(raw_call(fd, XS_RELEASE, ARGS("31"), r, sizeof(r)) == 0,
	      "release: %s", r);
	close(fd);
}

static void test_reset_watches_and_depth(void)
{
	struct xs_handle *h = open_or_die();
	int fd = raw_open();
	char r[256];

	CHECK(fd >= 0, "raw connection");
	if (fd < 0)
		return;
	/* a depth of 1: /lc/d/a fires, /lc/d/a/b does not */
	CHECK(raw_call(fd, XS_WATCH, ARGS("/lc/d", "dep", "1"), r, sizeof(r)) ==
		      0,
	      "WATCH with depth: %s", r);
	CHECK(raw_call(fd, XS_TRANSACTION_START, ARGS(""), r, sizeof(r)) == 0,
	      "transaction");
	CHECK(xs_write(h, XBT_NULL, "/lc/d/a/b", "1", 1), "write deep");
	CHECK(xs_write(h, XBT_NULL, "/lc/d/a", "1", 1), "write child");
	{
		struct xsd_sockmsg ev;
		char p[128];

		/* the initial event went by in raw_call; then /lc/d/a, not
		 * /lc/d/a/b (written first) */
		CHECK(read_all(fd, &ev, sizeof(ev)) && ev.len < sizeof(p) &&
			      read_all(fd, p, ev.len) &&
			      strcmp(p, "/lc/d/a") == 0,
		      "depth-1 event: %s", p);
	}
	CHECK(raw_call(fd, XS_RESET_WATCHES, ARGS(""), r, sizeof(r)) == 0 &&
		      strcmp(r, "OK") == 0,
	      "RESET_WATCHES: %s", r);
	CHECK(xs_write(h, XBT_NULL, "/lc/d/c", "1", 1), "write after reset");
	/* no event before the next reply: the watch is gone */
	CHECK(raw_call(fd, XS_READ, ARGS("/lc/d/c"), r, sizeof(r)) == 0, "read");
	{
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		CHECK(poll(&pfd, 1, 100) == 0, "an event after RESET_WATCHES");
	}
	/* optional and unknown types: ENOSYS, the connection serves on */
	CHECK(raw_call(fd, 20, NULL, r, sizeof(r)) == -ENOSYS, "RESTRICT: %s",
	      r);
	CHECK(raw_call(fd, SPLITDRV_XS_TYPE_COUNT, NULL, r, sizeof(r)) ==
		      -ENOSYS,
	      "type %d: %s", SPLITDRV_XS_TYPE_COUNT, r);
	CHECK(raw_call(fd, XS_READ, ARGS("/lc/d/c"), r, sizeof(r)) == 0 &&
		      strcmp(r, "1") == 0,
	      "served after ENOSYS");
	close(fd);
	xs_close(h);
}

/* @releaseDomain/<domid>, DOMID_ANY and a domain nobody introduced in
 * permissions, through libxenstore's own calls. */
static void test_special_watches_and_perms(void)
{
	struct xs_handle *h = open_or_die();
	struct xs_permissions set[] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = 4242, .perms = XS_PERM_READ }, /* no such domain */
		{ .id = DOMID_ANY, .perms = XS_PERM_READ },
	};
	struct xs_permissions *got;
	unsigned n = 0;
	char p[64];

	CHECK(xs_watch(h, "@releaseDomain/33", "one"), "watch @rD/33");
	CHECK(next_event(h, p, sizeof(p), "one") &&
		      strcmp(p, "@releaseDomain/33") == 0,
	      "initial event %s", p);
	CHECK(xs_introduce_domain(h, 32, 1, 5) &&
		      xs_introduce_domain(h, 33, 1, 5),
	      "introduce");
	CHECK(xs_release_domain(h, 32), "release 32");
	CHECK(xs_release_domain(h, 33), "release 33");
	CHECK(next_event(h, p, sizeof(p), "one") &&
		      strcmp(p, "@releaseDomain/33") == 0,
	      "event for 33 only, got %s", p);
	CHECK(xs_unwatch(h, "@releaseDomain/33", "one"), "unwatch");
	CHECK(xs_write(h, XBT_NULL, "/lc/any", "v", 1), "write");
	CHECK(xs_set_permissions(h, XBT_NULL, "/lc/any", set, 3),
	      "SET_PERMS with an unknown domain and DOMID_ANY");
	got = xs_get_permissions(h, XBT_NULL, "/lc/any", &n);
	CHECK(got && n == 3 && got[1].id == 4242 && got[2].id == DOMID_ANY &&
		      got[2].perms == XS_PERM_READ,
	      "perms kept");
	free(got);
	xs_close(h);
}

static int populate(void)
{
	struct xs_handle *h = open_or_die();
	struct xs_permissions perms[2] = {
		{ .id = 3, .perms = XS_PERM_NONE },
		{ .id = 4, .perms = XS_PERM_READ },
	};
	xs_transaction_t t;

	CHECK(xs_write(h, XBT_NULL, "/persist/plain", "value", 5), "write");
	CHECK(xs_mkdir(h, XBT_NULL, "/persist/dir"), "mkdir");
	CHECK(xs_write(h, XBT_NULL, "/persist/perm", "p", 1), "write");
	CHECK(xs_set_permissions(h, XBT_NULL, "/persist/perm", perms, 2),
	      "perms");
	CHECK(xs_write(h, XBT_NULL, "/persist/gone", "x", 1), "write");
	CHECK(xs_rm(h, XBT_NULL, "/persist/gone"), "rm");
	t = xs_transaction_start(h);
	xs_write(h, t, "/persist/tx/a", "A", 1);
	xs_write(h, t, "/persist/tx/b", "B", 1);
	CHECK(xs_transaction_end(h, t, false), "tx");
	CHECK(xs_introduce_domain(h, 21, 99, 5), "introduce");
	xs_close(h);
	return failures ? 1 : 0;
}

static int verify(void)
{
	struct xs_handle *h = open_or_die();
	struct xs_permissions *p;
	unsigned n = 0, len;
	char *v;

	CHECK(value_is(h, XBT_NULL, "/persist/plain", "value"), "plain");
	v = xs_read(h, XBT_NULL, "/persist/dir", &len);
	CHECK(v && len == 0, "dir");
	free(v);
	p = xs_get_permissions(h, XBT_NULL, "/persist/perm", &n);
	CHECK(p && n == 2 && p[0].id == 3 && p[1].id == 4 &&
		      p[1].perms == XS_PERM_READ,
	      "perms");
	free(p);
	v = xs_read(h, XBT_NULL, "/persist/gone", &len);
	CHECK(!v && errno == ENOENT, "removed stays removed");
	free(v);
	CHECK(value_is(h, XBT_NULL, "/persist/tx/a", "A") &&
		      value_is(h, XBT_NULL, "/persist/tx/b", "B"),
	      "transaction");
	CHECK(xs_is_domain_introduced(h, 21), "introduced domain");
	xs_close(h);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";

	if (strcmp(mode, "populate") == 0)
		return populate();
	if (strcmp(mode, "verify") == 0)
		return verify();
	if (strcmp(mode, "all") != 0) {
		fprintf(stderr, "usage: xs_libclient [all|populate|verify]\n");
		return 2;
	}
	test_transaction_conflict();
	test_watches();
	test_permissions();
	test_domains();
	test_big_directory();
	test_control();
	test_features_and_quotas();
	test_reset_watches_and_depth();
	test_special_watches_and_perms();
	printf("xs_libclient: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
