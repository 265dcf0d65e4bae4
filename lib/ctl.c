/*
 * ctl.c - the JSON control socket (see ctl.h).
 *
 * Server: an evconnlistener on a unix stream socket; each client is a
 * bufferevent. Input is cut at '\n'; each line is parsed once into a
 * jansson object, checked (object, string "cmd", object "args"), looked up
 * in the command table and answered with one compact JSON line. Client
 * input is never trusted: a bad line gets {"ok":false,"error":...} and the
 * client stays; a line over CTL_MAX_LINE is answered with an error and the
 * client is closed once that reply is flushed. A client that does not read
 * its replies stops being read from (CTL_MAX_OUTPUT) until it does. At
 * most CTL_MAX_CLIENTS clients at a time; more are closed on accept.
 *
 * Client: ctl_request(), blocking with poll(2) and one deadline for the
 * whole exchange.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"

#define CTL_MAX_LINE    (64 * 1024)
#define CTL_MAX_OUTPUT  (1024 * 1024)
#define CTL_MAX_CLIENTS 64
#define CTL_MAX_NAME    63
#define CTL_MAX_REPLY   (16 * 1024 * 1024)

struct ctl_cmd {
	char *name;
	char *help;
	ctl_cmd_fn fn;
	void *arg;
};

struct ctl_client {
	struct ctl *ctl;
	struct bufferevent *bev;
	int closing; /* flush the output, then free */
	int paused;  /* reading stopped until the output drains */
	TAILQ_ENTRY(ctl_client) link;
};

struct ctl {
	struct event_base *base;
	struct evconnlistener *lis;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t sock_dev;
	ino_t sock_ino;
	char *daemon_name;
	char *version;
	uint64_t start_ms;
	struct ctl_cmd *cmds;
	size_t ncmds, cmds_cap;
	TAILQ_HEAD(ctl_client_list, ctl_client) clients;
	unsigned int nclients;
	ctl_info_fn status_fn, stats_fn;
	void *status_arg, *stats_arg;
	struct log_ratelimit rl;
};

/* ------------------------------------------------------------------ */
/* Built-in commands                                                   */
/* ------------------------------------------------------------------ */

/* fill_info - let the daemon's callback (if any) add to o; o becomes the
 * result, or is dropped on error. */
static int fill_info(json_t *o, ctl_info_fn fn, void *arg, json_t **result)
{
	int r;

	if (!o)
		return -ENOMEM;
	if (fn) {
		r = fn(arg, o);
		if (r < 0) {
			json_decref(o);
			return r;
		}
	}
	*result = o;
	return 0;
}

static int ctl_cmd_status(void *arg, json_t *args, json_t **result,
			  char **errmsg)
{
	struct ctl *ctl = arg;
	json_t *o =
		json_pack("{s:s, s:s, s:I, s:I}", "daemon", ctl->daemon_name,
			  "version", ctl->version, "pid", (json_int_t)getpid(),
			  "uptime_s",
			  (json_int_t)((daemon_monotonic_ms() - ctl->start_ms) /
				       1000));

	return fill_info(o, ctl->status_fn, ctl->status_arg, result);
}

static int ctl_cmd_stats(void *arg, json_t *args, json_t **result, char **errmsg)
{
	struct ctl *ctl = arg;
	json_t *o = json_object();

	return fill_info(o, ctl->stats_fn, ctl->stats_arg, result);
}

static int ctl_cmd_help(void *arg, json_t *args, json_t **result, char **errmsg)
{
	struct ctl *ctl = arg;
	json_t *list = json_array();
	size_t i;

	if (!list)
		return -ENOMEM;
	for (i = 0; i < ctl->ncmds; i++) {
		json_t *e = json_pack("{s:s, s:s}", "name", ctl->cmds[i].name,
				      "help", ctl->cmds[i].help);

		if (!e || json_array_append_new(list, e) < 0) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	*result = json_pack("{s:o}", "commands", list);
	return *result ? 0 : -ENOMEM;
}

static const struct {
	const char *name, *help;
	ctl_cmd_fn fn;
} ctl_builtins[] = {
	{ "status", "daemon, version, pid, uptime and the daemon's state",
	  ctl_cmd_status },
	{ "stats", "the daemon's counters", ctl_cmd_stats },
	{ "help", "the list of commands", ctl_cmd_help },
};

static struct ctl_cmd *ctl_find(struct ctl *ctl, const char *name)
{
	size_t i;

	for (i = 0; i < ctl->ncmds; i++)
		if (!strcmp(ctl->cmds[i].name, name))
			return &ctl->cmds[i];
	return NULL;
}

static int ctl_add(struct ctl *ctl, const char *name, const char *help,
		   ctl_cmd_fn fn, void *arg)
{
	struct ctl_cmd *c;
	size_t len;

	if (!name || !fn)
		return -EINVAL;
	len = strlen(name);
	if (len == 0 || len > CTL_MAX_NAME)
		return -EINVAL;
	if (ctl_find(ctl, name))
		return -EEXIST;
	if (ctl->ncmds == ctl->cmds_cap) {
		size_t cap = ctl->cmds_cap ? ctl->cmds_cap * 2 : 16;
		struct ctl_cmd *n = realloc(ctl->cmds, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ctl->cmds = n;
		ctl->cmds_cap = cap;
	}
	c = &ctl->cmds[ctl->ncmds];
	c->name = strdup(name);
	c->help = strdup(help ? help : "");
	if (!c->name || !c->help) {
		free(c->name);
		free(c->help);
		return -ENOMEM;
	}
	c->fn = fn;
	c->arg = arg;
	ctl->ncmds++;
	return 0;
}

/* ctl_add_cmd - see ctl.h. */
int ctl_add_cmd(struct ctl *ctl, const char *name, const char *help,
		ctl_cmd_fn fn, void *arg)
{
	if (!ctl)
		return -EINVAL;
	return ctl_add(ctl, name, help, fn, arg);
}

/* ctl_set_status_fn - see ctl.h. */
void ctl_set_status_fn(struct ctl *ctl, ctl_info_fn fn, void *arg)
{
	ctl->status_fn = fn;
	ctl->status_arg = arg;
}

/* ctl_set_stats_fn - see ctl.h. */
void ctl_set_stats_fn(struct ctl *ctl, ctl_info_fn fn, void *arg)
{
	ctl->stats_fn = fn;
	ctl->stats_arg = arg;
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */
/* ------------------------------------------------------------------ */

static void ctl_client_free(struct ctl_client *c)
{
	struct ctl *ctl = c->ctl;

	TAILQ_REMOVE(&ctl->clients, c, link);
	ctl->nclients--;
	bufferevent_free(c->bev);
	free(c);
}

/* Queue one reply line; reply is consumed. */
static void ctl_send(struct ctl_client *c, json_t *reply)
{
	char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

	json_decref(reply);
	if (!s) {
		/* Out of memory: a fixed reply still tells the client. */
		static const char oom[] =
			"{\"ok\":false,\"error\":\"out of memory\"}\n";

		bufferevent_write(c->bev, oom, sizeof(oom) - 1);
		return;
	}
	bufferevent_write(c->bev, s, strlen(s));
	bufferevent_write(c->bev, "\n", 1);
	free(s);
}

static void ctl_send_error(struct ctl_client *c, json_t *id, const char *msg)
{
	json_t *reply = json_pack("{s:b, s:s}", "ok", 0, "error", msg);

	if (reply && id)
		json_object_set(reply, "id", id);
	ctl_send(c, reply);
}

static void ctl_handle_line(struct ctl_client *c, const char *line, size_t len)
{
	struct ctl *ctl = c->ctl;
	json_error_t jerr;
	json_t *req, *id, *jcmd, *args, *result = NULL, *reply;
	struct ctl_cmd *cmd;
	char *errmsg = NULL;
	char buf[256];
	size_t i;
	int r;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return; /* blank line */

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			 &jerr);
	if (!req) {
		snprintf(buf, sizeof(buf), "malformed JSON: %s (column %d)",
			 jerr.text, jerr.column);
		ctl_send_error(c, NULL, buf);
		return;
	}
	if (!json_is_object(req)) {
		ctl_send_error(c, NULL, "request is not a JSON object");
		goto out;
	}
	id = json_object_get(req, "id");
	jcmd = json_object_get(req, "cmd");
	if (!json_is_string(jcmd)) {
		ctl_send_error(c, id,
			       jcmd ? "\"cmd\" is not a string"
				    : "missing \"cmd\"");
		goto out;
	}
	args = json_object_get(req, "args");
	if (json_is_null(args))
		args = NULL;
	if (args && !json_is_object(args)) {
		ctl_send_error(c, id, "\"args\" is not an object");
		goto out;
	}
	cmd = ctl_find(ctl, json_string_value(jcmd));
	if (!cmd) {
		snprintf(buf, sizeof(buf), "unknown command '%.64s'",
			 json_string_value(jcmd));
		ctl_send_error(c, id, buf);
		goto out;
	}

	r = cmd->fn(cmd->arg, args, &result, &errmsg);
	if (r < 0) {
		json_decref(result);
		snprintf(buf, sizeof(buf), "%s: %s", cmd->name,
			 errmsg ? errmsg : strerror(-r));
		free(errmsg);
		log_debug("ctl: %s", buf);
		ctl_send_error(c, id, buf);
		goto out;
	}
	free(errmsg);
	reply = json_pack("{s:b, s:o}", "ok", 1, "result",
			  result ? result : json_object());
	if (reply && id)
		json_object_set(reply, "id", id);
	ctl_send(c, reply);
out:
	json_decref(req);
}

/* Answer the oversized line and close the client once that is flushed. */
static void ctl_client_drop(struct ctl_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	char buf[96];

	if (log_ratelimit_ok(&c->ctl->rl, NULL))
		log_warnx("ctl: request line over %d bytes: closing client",
			  CTL_MAX_LINE);
	snprintf(buf, sizeof(buf), "request line over %d bytes: closing",
		 CTL_MAX_LINE);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_disable(c->bev, EV_READ);
	c->closing = 1;
	ctl_send_error(c, NULL, buf);
}

/* Serve every complete line buffered for c. */
static void ctl_client_process(struct ctl_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (!c->closing) {
		struct evbuffer_ptr eol;
		size_t eol_len = 0, len;
		char *line;

		if (evbuffer_get_length(out) > CTL_MAX_OUTPUT) {
			/* Not reading its replies: stop reading its requests. */
			bufferevent_disable(c->bev, EV_READ);
			c->paused = 1;
			return;
		}
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (evbuffer_get_length(in) > CTL_MAX_LINE)
				ctl_client_drop(c);
			return;
		}
		len = (size_t)eol.pos;
		if (len > CTL_MAX_LINE) {
			ctl_client_drop(c);
			return;
		}
		line = malloc(len + 1);
		if (!line) {
			ctl_client_drop(c);
			return;
		}
		evbuffer_remove(in, line, len);
		line[len] = '\0';
		evbuffer_drain(in, eol_len);
		ctl_handle_line(c, line, len);
		free(line);
	}
}

static void ctl_on_read(struct bufferevent *bev, void *arg)
{
	ctl_client_process(arg);
}

static void ctl_on_write(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->closing) {
		ctl_client_free(c);
		return;
	}
	if (c->paused) {
		c->paused = 0;
		bufferevent_enable(bev, EV_READ);
		ctl_client_process(c);
	}
}

static void ctl_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client *c = arg;

	if (what & BEV_EVENT_ERROR) {
		ctl_client_free(c);
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	/* Half-closed: answer what it sent, flush, then close. */
	if (!c->closing && !c->paused)
		ctl_client_process(c);
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		c->closing = 1;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	ctl_client_free(c);
}

static void ctl_on_accept(struct evconnlistener *lis, evutil_socket_t fd,
			  struct sockaddr *sa, int salen, void *arg)
{
	struct ctl *ctl = arg;
	struct ctl_client *c;

	if (ctl->nclients >= CTL_MAX_CLIENTS) {
		if (log_ratelimit_ok(&ctl->rl, NULL))
			log_warnx("ctl: %u clients already: refusing one",
				  ctl->nclients);
		evutil_closesocket(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->ctl = ctl;
	c->bev = bufferevent_socket_new(ctl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&ctl->clients, c, link);
	ctl->nclients++;
	bufferevent_setcb(c->bev, ctl_on_read, ctl_on_write, ctl_on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void ctl_on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct ctl *ctl = arg;

	if (log_ratelimit_ok(&ctl->rl, NULL))
		log_warn("ctl: accept on %s", ctl->path);
}

/* ------------------------------------------------------------------ */
/* Listening socket                                                    */
/* ------------------------------------------------------------------ */

static int ctl_fill_addr(struct sockaddr_un *sun, const char *path)
{
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	return 0;
}

/*
 * A socket file left at path: replace it if nobody listens there any more,
 * refuse (EADDRINUSE) if a live daemon does, and never remove anything
 * that is not a socket (EEXIST).
 */
static int ctl_clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	/* Non-blocking: a live daemon with a full backlog (EAGAIN) must not
	 * hang us, and is live all the same. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (r == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		return -EADDRINUSE;
	}
	r = errno;
	close(fd);
	if (r != ECONNREFUSED && r != ENOENT)
		return -r;
	if (unlink(sun->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* ctl_open - see ctl.h. errno EADDRINUSE: another daemon serves path;
 * EEXIST: path exists and is not a socket. */
struct ctl *ctl_open(struct event_base *base, const char *path,
		     const char *daemon_name, const char *version)
{
	struct sockaddr_un sun;
	struct ctl *ctl = NULL;
	struct stat st;
	size_t i;
	int fd = -1, r;

	if (!base || !path) {
		errno = EINVAL;
		return NULL;
	}
	r = ctl_fill_addr(&sun, path);
	if (r < 0)
		goto fail;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		r = -ENOMEM;
		goto fail;
	}
	ctl->base = base;
	TAILQ_INIT(&ctl->clients);
	ctl->start_ms = daemon_monotonic_ms();
	ctl->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10000, 5);
	memcpy(ctl->path, sun.sun_path, sizeof(ctl->path));
	ctl->daemon_name = strdup(daemon_name ? daemon_name : "splitdrv");
	ctl->version = strdup(version ? version : PACKAGE_VERSION);
	if (!ctl->daemon_name || !ctl->version) {
		r = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < sizeof(ctl_builtins) / sizeof(ctl_builtins[0]); i++) {
		r = ctl_add(ctl, ctl_builtins[i].name, ctl_builtins[i].help,
			    ctl_builtins[i].fn, ctl);
		if (r < 0)
			goto fail;
	}

	r = ctl_clear_stale(&sun);
	if (r < 0)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	/* On Linux the mode of the socket inode becomes the file's mode at
	 * bind: no window in which the path is open to others. */
	if (fchmod(fd, 0600) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = -errno;
		goto fail;
	}
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0 ||
	    listen(fd, 16) < 0) {
		r = -errno;
		unlink(path);
		goto fail;
	}
	ctl->sock_dev = st.st_dev;
	ctl->sock_ino = st.st_ino;
	ctl->lis = evconnlistener_new(base, ctl_on_accept, ctl,
				      LEV_OPT_CLOSE_ON_FREE |
					      LEV_OPT_CLOSE_ON_EXEC,
				      0, fd);
	if (!ctl->lis) {
		r = -ENOMEM;
		unlink(path);
		goto fail;
	}
	evconnlistener_set_error_cb(ctl->lis, ctl_on_accept_error);
	return ctl;

fail:
	if (fd >= 0)
		close(fd);
	if (ctl) {
		for (i = 0; i < ctl->ncmds; i++) {
			free(ctl->cmds[i].name);
			free(ctl->cmds[i].help);
		}
		free(ctl->cmds);
		free(ctl->daemon_name);
		free(ctl->version);
		free(ctl);
	}
	errno = -r;
	return NULL;
}

/* ctl_close - see ctl.h. The path is unlinked only while it is still our
 * socket (not one a newer instance has put there). NULL is fine. */
void ctl_close(struct ctl *ctl)
{
	struct ctl_client *c;
	struct stat st;
	size_t i;

	if (!ctl)
		return;
	evconnlistener_free(ctl->lis);
	while ((c = TAILQ_FIRST(&ctl->clients)))
		ctl_client_free(c);
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->sock_dev &&
	    st.st_ino == ctl->sock_ino)
		unlink(ctl->path);
	for (i = 0; i < ctl->ncmds; i++) {
		free(ctl->cmds[i].name);
		free(ctl->cmds[i].help);
	}
	free(ctl->cmds);
	free(ctl->daemon_name);
	free(ctl->version);
	free(ctl);
}

/* ------------------------------------------------------------------ */
/* Client side                                                         */
/* ------------------------------------------------------------------ */

/* Milliseconds left until deadline (-1: none), 0 when it has passed. */
static int ctl_left(uint64_t deadline, int timeout_ms)
{
	uint64_t now;

	if (timeout_ms < 0)
		return -1;
	now = daemon_monotonic_ms();
	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

/* Wait for events on fd; 0, or -ETIMEDOUT / -errno. */
static int ctl_wait(int fd, short events, uint64_t deadline, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r, left;

	for (;;) {
		left = ctl_left(deadline, timeout_ms);
		if (left == 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* ctl_request - see ctl.h. */
json_t *ctl_request(const char *path, const char *cmd, json_t *args,
		    int timeout_ms)
{
	uint64_t deadline =
		daemon_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct sockaddr_un sun;
	json_t *req = NULL, *reply = NULL;
	char *out = NULL, *in = NULL, *nl;
	size_t out_len, out_off = 0, in_len = 0, in_cap = 0;
	socklen_t slen;
	int fd = -1, r, soerr;
	ssize_t n;

	if (!path || !cmd || (args && !json_is_object(args))) {
		errno = EINVAL;
		return NULL;
	}
	r = ctl_fill_addr(&sun, path);
	if (r < 0)
		goto out;
	req = json_pack("{s:s}", "cmd", cmd);
	if (!req || (args && json_object_set(req, "args", args) < 0)) {
		r = -ENOMEM;
		goto out;
	}
	out = json_dumps(req, JSON_COMPACT);
	if (!out) {
		r = -ENOMEM;
		goto out;
	}
	out_len = strlen(out);
	out[out_len++] = '\n'; /* replaces the NUL: out is not a string now */

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			r = -errno;
			goto out;
		}
		r = ctl_wait(fd, POLLOUT, deadline, timeout_ms);
		if (r < 0)
			goto out;
		slen = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0) {
			r = -errno;
			goto out;
		}
		if (soerr) {
			r = -soerr;
			goto out;
		}
	}

	while (out_off < out_len) {
		n = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
		if (n >= 0) {
			out_off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			goto out;
		}
		r = ctl_wait(fd, POLLOUT, deadline, timeout_ms);
		if (r < 0)
			goto out;
	}

	for (;;) {
		if (in_cap - in_len < 4096) {
			size_t cap = in_cap ? in_cap * 2 : 8192;
			char *p;

			if (cap > CTL_MAX_REPLY) {
				r = -EMSGSIZE;
				goto out;
			}
			p = realloc(in, cap);
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			in = p;
			in_cap = cap;
		}
		n = recv(fd, in + in_len, in_cap - in_len, 0);
		if (n > 0) {
			nl = memchr(in + in_len, '\n', (size_t)n);
			in_len += (size_t)n;
			if (nl) {
				in_len = (size_t)(nl - in);
				break;
			}
			continue;
		}
		if (n == 0) {
			r = -ECONNRESET;
			goto out;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			goto out;
		}
		r = ctl_wait(fd, POLLIN, deadline, timeout_ms);
		if (r < 0)
			goto out;
	}

	reply = json_loadb(in, in_len, 0, NULL);
	if (!reply || !json_is_object(reply)) {
		json_decref(reply);
		reply = NULL;
		r = -EPROTO;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(in);
	free(out);
	json_decref(req);
	if (r < 0)
		errno = -r;
	return reply;
}
