/*
 * check_ctl - lib/ctl.c: the JSON control socket. The server runs on an
 * event_base in a thread of its own; the tests are its clients, through
 * ctl_request() or raw sockets (to send what ctl_request never would).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/thread.h>

#include "check_main.h"
#include "ctl.h"
#include "daemon.h"
#include "log.h"

static char dir[64];
static char path[128];
static struct event_base *base;
static struct ctl *ctl;
static pthread_t thr;
static int running;

static void *serve(void *arg)
{
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void start_server(void)
{
	ck_assert_int_eq(pthread_create(&thr, NULL, serve, NULL), 0);
	running = 1;
}

static void setup(void)
{
	ck_assert_int_eq(evthread_use_pthreads(), 0);
	snprintf(dir, sizeof(dir), "/tmp/check_ctl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.ctl", dir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	log_open("check_ctl", LOG_TO_STDERR);
	ctl = ctl_open(base, path, "testd", "1.2");
	ck_assert_msg(ctl != NULL, "ctl_open: %s", strerror(errno));
}

static void teardown(void)
{
	if (running) {
		event_base_loopbreak(base);
		pthread_join(thr, NULL);
		running = 0;
	}
	ctl_close(ctl);
	ctl = NULL;
	event_base_free(base);
	unlink(path);
	rmdir(dir);
}

/* ---- raw client helpers ---- */

static void fill_sun(struct sockaddr_un *sun, const char *p)
{
	size_t n = strlen(p);

	ck_assert_uint_lt(n, sizeof(sun->sun_path));
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, p, n + 1);
}

static int raw_connect(const char *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	fill_sun(&sun, p);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void raw_send(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_int_gt(n, 0);
		s += n;
		len -= (size_t)n;
	}
}

/* One reply line parsed (NULL on EOF); fails the test after 5 s. */
static json_t *raw_reply(int fd)
{
	char line[65536];
	size_t off = 0;
	json_error_t e;
	json_t *j;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		ck_assert_msg(poll(&p, 1, 5000) == 1, "no reply within 5 s");
		n = recv(fd, line + off, 1, 0);
		/* A peer closing with our bytes unread resets instead. */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return NULL;
		ck_assert_int_eq(n, 1);
		if (line[off] == '\n')
			break;
		ck_assert_uint_lt(++off, sizeof(line) - 1);
	}
	line[off] = '\0';
	j = json_loads(line, 0, &e);
	ck_assert_msg(j != NULL, "reply is not JSON: %s", line);
	return j;
}

static json_t *raw_request(int fd, const char *line)
{
	raw_send(fd, line, strlen(line));
	return raw_reply(fd);
}

static void assert_error_contains(json_t *reply, const char *what)
{
	const char *err;

	ck_assert_ptr_nonnull(reply);
	ck_assert(json_is_false(json_object_get(reply, "ok")));
	err = json_string_value(json_object_get(reply, "error"));
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, what) != NULL, "error '%s' lacks '%s'", err,
		      what);
}

static json_t *assert_ok(json_t *reply)
{
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(json_is_true(json_object_get(reply, "ok")), "not ok: %s",
		      json_string_value(json_object_get(reply, "error")));
	return json_object_get(reply, "result");
}

/* ---- daemon-side callbacks ---- */

static int status_add(void *arg, json_t *obj)
{
	return json_object_set_new(obj, "domains", json_integer(3)) ? -ENOMEM
								    : 0;
}

static int stats_fill(void *arg, json_t *obj)
{
	return json_object_set_new(obj, "requests", json_integer(42)) ? -ENOMEM
								      : 0;
}

static int stats_fail(void *arg, json_t *obj)
{
	return -EIO;
}

/* "double": {"n": N} -> {"n2": 2N}; -EINVAL with a message otherwise. */
static int cmd_double(void *arg, json_t *args, json_t **result, char **errmsg)
{
	json_t *n = args ? json_object_get(args, "n") : NULL;

	(*(int *)arg)++;
	if (!json_is_integer(n)) {
		*errmsg = strdup("args.n must be an integer");
		return -EINVAL;
	}
	*result = json_pack("{s:I}", "n2", json_integer_value(n) * 2);
	return 0;
}

/* ---- tests ---- */

START_TEST(status_reports_daemon_version_pid_uptime_and_daemon_state)
{
	json_t *r, *res;

	ctl_set_status_fn(ctl, status_add, NULL);
	start_server();
	r = ctl_request(path, "status", NULL, 5000);
	ck_assert_msg(r != NULL, "ctl_request: %s", strerror(errno));
	res = assert_ok(r);
	ck_assert_str_eq(json_string_value(json_object_get(res, "daemon")),
			 "testd");
	ck_assert_str_eq(json_string_value(json_object_get(res, "version")),
			 "1.2");
	ck_assert_int_eq(json_integer_value(json_object_get(res, "pid")),
			 getpid());
	ck_assert(json_is_integer(json_object_get(res, "uptime_s")));
	ck_assert_int_eq(json_integer_value(json_object_get(res, "domains")), 3);
	json_decref(r);
}
END_TEST

START_TEST(stats_returns_what_the_daemon_fills_in)
{
	json_t *r;

	start_server();
	r = ctl_request(path, "stats", NULL, 5000);
	ck_assert_int_eq(json_object_size(assert_ok(r)), 0);
	json_decref(r);
	ctl_set_stats_fn(ctl, stats_fill, NULL);
	r = ctl_request(path, "stats", NULL, 5000);
	ck_assert_int_eq(json_integer_value(
				 json_object_get(assert_ok(r), "requests")),
			 42);
	json_decref(r);
}
END_TEST

START_TEST(stats_callback_error_becomes_error_reply)
{
	json_t *r;

	ctl_set_stats_fn(ctl, stats_fail, NULL);
	start_server();
	r = ctl_request(path, "stats", NULL, 5000);
	assert_error_contains(r, "Input/output error");
	json_decref(r);
}
END_TEST

START_TEST(unknown_command_gets_error_reply)
{
	json_t *r;

	start_server();
	r = ctl_request(path, "nope", NULL, 5000);
	assert_error_contains(r, "unknown command 'nope'");
	json_decref(r);
}
END_TEST

START_TEST(malformed_json_gets_error_and_client_is_still_served)
{
	json_t *r;
	int fd;

	start_server();
	fd = raw_connect(path);
	r = raw_request(fd, "{\"cmd\": \"status\"\n");
	assert_error_contains(r, "malformed JSON");
	json_decref(r);
	r = raw_request(fd, "{\"cmd\":\"status\"}\n");
	assert_ok(r);
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(rejects_non_object_missing_or_non_string_cmd_and_bad_args)
{
	static const struct {
		const char *line, *err;
	} cases[] = {
		{ "[1,2]\n", "not a JSON object" },
		{ "\"status\"\n", "not a JSON object" },
		{ "{\"x\":1}\n", "missing \"cmd\"" },
		{ "{\"cmd\":5}\n", "\"cmd\" is not a string" },
		{ "{\"cmd\":null}\n", "\"cmd\" is not a string" },
		{ "{\"cmd\":\"status\",\"args\":[1]}\n",
		  "\"args\" is not an object" },
		{ "{\"cmd\":\"a\",\"cmd\":\"b\"}\n", "malformed JSON" },
	};
	json_t *r;
	size_t i;
	int fd;

	start_server();
	fd = raw_connect(path);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = raw_request(fd, cases[i].line);
		assert_error_contains(r, cases[i].err);
		json_decref(r);
	}
	r = raw_request(fd, "{\"cmd\":\"help\"}\n");
	assert_ok(r);
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(registered_command_gets_its_args)
{
	json_t *args, *r;
	int calls = 0;

	ck_assert_int_eq(ctl_add_cmd(ctl, "double", "twice n", cmd_double,
				     &calls),
			 0);
	start_server();
	args = json_pack("{s:i}", "n", 21);
	r = ctl_request(path, "double", args, 5000);
	ck_assert_int_eq(json_integer_value(json_object_get(assert_ok(r), "n2")),
			 42);
	json_decref(r);
	json_decref(args);
	ck_assert_int_eq(calls, 1);
}
END_TEST

START_TEST(handler_error_message_is_returned)
{
	json_t *r;
	int calls = 0;

	ck_assert_int_eq(ctl_add_cmd(ctl, "double", "twice n", cmd_double,
				     &calls),
			 0);
	start_server();
	r = ctl_request(path, "double", NULL, 5000);
	assert_error_contains(r, "double: args.n must be an integer");
	json_decref(r);
}
END_TEST

START_TEST(add_cmd_rejects_builtin_duplicate_and_bad_names)
{
	int calls = 0;
	char longname[80];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(ctl_add_cmd(ctl, "status", "", cmd_double, &calls),
			 -EEXIST);
	ck_assert_int_eq(ctl_add_cmd(ctl, "x", "", cmd_double, &calls), 0);
	ck_assert_int_eq(ctl_add_cmd(ctl, "x", "", cmd_double, &calls), -EEXIST);
	ck_assert_int_eq(ctl_add_cmd(ctl, "", "", cmd_double, &calls), -EINVAL);
	ck_assert_int_eq(ctl_add_cmd(ctl, longname, "", cmd_double, &calls),
			 -EINVAL);
	ck_assert_int_eq(ctl_add_cmd(ctl, "y", "", NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(help_lists_builtin_and_registered_commands)
{
	json_t *r, *cmds, *e;
	int calls = 0, seen = 0;
	size_t i;

	ck_assert_int_eq(ctl_add_cmd(ctl, "double", "twice n", cmd_double,
				     &calls),
			 0);
	start_server();
	r = ctl_request(path, "help", NULL, 5000);
	cmds = json_object_get(assert_ok(r), "commands");
	ck_assert(json_is_array(cmds));
	json_array_foreach(cmds, i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));

		ck_assert_ptr_nonnull(n);
		ck_assert(json_is_string(json_object_get(e, "help")));
		if (!strcmp(n, "status") || !strcmp(n, "stats") ||
		    !strcmp(n, "help") || !strcmp(n, "double"))
			seen++;
	}
	ck_assert_int_eq(seen, 4);
	json_decref(r);
}
END_TEST

START_TEST(request_id_is_echoed)
{
	json_t *r;
	int fd;

	start_server();
	fd = raw_connect(path);
	r = raw_request(fd, "{\"cmd\":\"status\",\"id\":17}\n");
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 17);
	json_decref(r);
	r = raw_request(fd, "{\"cmd\":\"nope\",\"id\":\"x\"}\n");
	ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "x");
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(pipelined_requests_are_answered_in_order_before_close)
{
	static const char two[] = "{\"cmd\":\"status\",\"id\":1}\n\n"
				  "{\"cmd\":\"nope\",\"id\":2}\n";
	json_t *r;
	int fd;

	start_server();
	fd = raw_connect(path);
	raw_send(fd, two, sizeof(two) - 1);
	shutdown(fd, SHUT_WR);
	r = raw_reply(fd);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = raw_reply(fd);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 2);
	json_decref(r);
	ck_assert_ptr_null(raw_reply(fd));
	close(fd);
}
END_TEST

START_TEST(oversized_line_drops_only_that_client)
{
	size_t big = 70 * 1024;
	char *junk = malloc(big);
	json_t *r;
	int good, bad;

	memset(junk, 'x', big);
	start_server();
	good = raw_connect(path);
	bad = raw_connect(path);
	raw_send(bad, junk, big);
	r = raw_reply(bad);
	assert_error_contains(r, "over 65536 bytes");
	json_decref(r);
	ck_assert_ptr_null(raw_reply(bad)); /* then EOF */
	close(bad);

	r = raw_request(good, "{\"cmd\":\"status\"}\n");
	assert_ok(r);
	json_decref(r);
	close(good);
	r = ctl_request(path, "status", NULL, 5000);
	assert_ok(r);
	json_decref(r);
	free(junk);
}
END_TEST

START_TEST(line_just_under_limit_is_served)
{
	size_t len = 60 * 1024;
	char *line = malloc(len + 64);
	json_t *r;
	size_t pre;
	int fd;

	/* {"cmd":"status","pad":"xxxx..."} */
	strcpy(line, "{\"cmd\":\"status\",\"pad\":\"");
	pre = strlen(line);
	memset(line + pre, 'x', len);
	strcpy(line + pre + len, "\"}\n");
	start_server();
	fd = raw_connect(path);
	r = raw_request(fd, line);
	assert_ok(r);
	json_decref(r);
	close(fd);
	free(line);
}
END_TEST

START_TEST(socket_is_mode_0600)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(stale_socket_is_replaced)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char p2[160];
	struct ctl *c2;
	int fd;
	json_t *r;

	/* A socket file nobody listens on, as a crashed daemon leaves it. */
	snprintf(p2, sizeof(p2), "%s/stale.ctl", dir);
	fill_sun(&sun, p2);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	c2 = ctl_open(base, p2, "stale", "0");
	ck_assert_msg(c2 != NULL, "ctl_open over a stale socket: %s",
		      strerror(errno));
	start_server();
	r = ctl_request(p2, "status", NULL, 5000);
	ck_assert_str_eq(json_string_value(
				 json_object_get(assert_ok(r), "daemon")),
			 "stale");
	json_decref(r);
	event_base_loopbreak(base);
	pthread_join(thr, NULL);
	running = 0;
	ctl_close(c2);
}
END_TEST

START_TEST(live_socket_or_other_file_is_not_replaced)
{
	char p2[160];
	FILE *f;

	ck_assert_ptr_null(ctl_open(base, path, "second", "0"));
	ck_assert_int_eq(errno, EADDRINUSE);

	snprintf(p2, sizeof(p2), "%s/file", dir);
	f = fopen(p2, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_ptr_null(ctl_open(base, p2, "second", "0"));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(access(p2, F_OK), 0);
	unlink(p2);
}
END_TEST

START_TEST(close_unlinks_socket)
{
	ctl_close(ctl);
	ctl = NULL;
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(request_times_out_when_nobody_answers)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char p2[160];
	uint64_t t0, dt;
	json_t *r;
	int fd;

	/* Listening, never accepting: the connection and the request go
	 * through (backlog, socket buffer), the reply never comes. */
	snprintf(p2, sizeof(p2), "%s/mute.sock", dir);
	fill_sun(&sun, p2);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	t0 = daemon_monotonic_ms();
	r = ctl_request(p2, "status", NULL, 300);
	dt = daemon_monotonic_ms() - t0;
	ck_assert_ptr_null(r);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_uint_ge(dt, 290);
	ck_assert_uint_lt(dt, 3000);
	close(fd);
	unlink(p2);
}
END_TEST

START_TEST(request_to_missing_socket_fails)
{
	char p2[160];

	snprintf(p2, sizeof(p2), "%s/absent.ctl", dir);
	ck_assert_ptr_null(ctl_request(p2, "status", NULL, 1000));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* "blob": a 1 KiB result, to fill a client's output quickly. */
static int cmd_blob(void *arg, json_t *args, json_t **result, char **errmsg)
{
	char buf[1025];

	memset(buf, 'b', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	*result = json_pack("{s:s}", "blob", buf);
	return 0;
}

START_TEST(client_not_reading_is_paused_and_loses_nothing)
{
	enum {
		N = 2000
	};
	char *all = malloc(N * 48), *p = all, *line = NULL;
	size_t cap = 0;
	json_t *r;
	FILE *f;
	int fd, i;

	/* 2000 requests at once (~80 KB: fits the socket buffer), 2 MB of
	 * replies not read until all are sent: the server must stop reading
	 * at its output limit and go on once we read. */
	ck_assert_int_eq(ctl_add_cmd(ctl, "blob", "1 KiB", cmd_blob, NULL), 0);
	for (i = 0; i < N; i++)
		p += sprintf(p, "{\"cmd\":\"blob\",\"id\":%d}\n", i);
	start_server();
	fd = raw_connect(path);
	raw_send(fd, all, (size_t)(p - all));
	usleep(200 * 1000);
	f = fdopen(fd, "r");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < N; i++) {
		ck_assert_int_gt(getline(&line, &cap, f), 0);
		r = json_loads(line, 0, NULL);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(json_integer_value(json_object_get(r, "id")),
				 i);
		assert_ok(r);
		json_decref(r);
	}
	fclose(f);
	free(line);
	free(all);
}
END_TEST

START_TEST(many_requests_one_after_another)
{
	json_t *r;
	int i;

	start_server();
	for (i = 0; i < 100; i++) {
		r = ctl_request(path, "status", NULL, 5000);
		assert_ok(r);
		json_decref(r);
	}
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
		       status_reports_daemon_version_pid_uptime_and_daemon_state);
	tcase_add_test(tc, stats_returns_what_the_daemon_fills_in);
	tcase_add_test(tc, stats_callback_error_becomes_error_reply);
	tcase_add_test(tc, unknown_command_gets_error_reply);
	tcase_add_test(tc, malformed_json_gets_error_and_client_is_still_served);
	tcase_add_test(tc,
		       rejects_non_object_missing_or_non_string_cmd_and_bad_args);
	tcase_add_test(tc, registered_command_gets_its_args);
	tcase_add_test(tc, handler_error_message_is_returned);
	tcase_add_test(tc, add_cmd_rejects_builtin_duplicate_and_bad_names);
	tcase_add_test(tc, help_lists_builtin_and_registered_commands);
	tcase_add_test(tc, request_id_is_echoed);
	tcase_add_test(tc,
		       pipelined_requests_are_answered_in_order_before_close);
	tcase_add_test(tc, oversized_line_drops_only_that_client);
	tcase_add_test(tc, line_just_under_limit_is_served);
	tcase_add_test(tc, socket_is_mode_0600);
	tcase_add_test(tc, stale_socket_is_replaced);
	tcase_add_test(tc, live_socket_or_other_file_is_not_replaced);
	tcase_add_test(tc, close_unlinks_socket);
	tcase_add_test(tc, request_times_out_when_nobody_answers);
	tcase_add_test(tc, request_to_missing_socket_fails);
	tcase_add_test(tc, many_requests_one_after_another);
	tcase_add_test(tc, client_not_reading_is_paused_and_loses_nothing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(ctl_suite)
