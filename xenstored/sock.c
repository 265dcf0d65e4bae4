/*
 * sock.c - the unix socket transport.
 *
 * Every socket client is dom0's tools: privileged, domid 0 (as with C
 * xenstored; access is controlled by the socket's file mode, 0600). One
 * read(2) fills the connection's read buffer, so pipelined requests cost
 * one system call per batch; replies are written as the loop allows.
 *
 * A read-only listener (socket_ro, mode 0660, as C xenstored had it next
 * to its socket) marks its clients readonly: the dispatcher refuses them
 * whatever would change the store (EACCES).
 *
 * Output bound: a client's queued output is bounded by out_max bytes.
 * Replies are paced by the client (it is not read from while its output
 * is past the bound); watch events are not, so one that would pass the
 * bound drops the client, with a log line naming it (pid and command).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "log.h"
#include "xenstored/sock.h"

struct xs_sock {
	struct xs_store *st;
	struct event_base *base;
	int fd;
	struct event *ev;
	struct xs_sock_opts opts;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct sock_conn {
	int fd;
	struct event *rev, *wev;
	struct xs_conn *c;
	pid_t pid; /* the peer's, 0 if unknown */
};

static ssize_t sock_read(struct xs_conn *c, void *buf, size_t len)
{
	struct sock_conn *sc = c->priv;
	ssize_t n = read(sc->fd, buf, len);

	if (n > 0)
		return n;
	if (n == 0)
		return -ECONNRESET;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	return -errno;
}

static ssize_t sock_write(struct xs_conn *c, const void *buf, size_t len)
{
	struct sock_conn *sc = c->priv;
	ssize_t n = send(sc->fd, buf, len, MSG_NOSIGNAL);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	return -errno;
}

static void sock_kick(struct xs_conn *c)
{
	struct sock_conn *sc = c->priv;

	event_add(sc->wev, NULL);
}

static void sock_destroy(struct xs_conn *c)
{
	struct sock_conn *sc = c->priv;

	event_free(sc->rev);
	event_free(sc->wev);
	close(sc->fd);
	free(sc);
}

static const struct xs_conn_ops sock_ops = {
	.read = sock_read,
	.write = sock_write,
	.kick = sock_kick,
	.destroy = sock_destroy,
};

/* Run input and output until neither makes progress; 0 or -errno. */
static int sock_service(struct sock_conn *sc, bool readable)
{
	struct xs_conn *c = sc->c;
	int rc = 0;

	if (readable)
		rc = xs_conn_input(c);
	if (rc == -ECONNRESET) {
		/* end of input: a half-closed client still gets its replies */
		xs_conn_flush(c);
		return rc;
	}
	if (rc == 0)
		rc = xs_conn_flush(c);
	/* a stalled (outstanding quota) connection may have buffered input */
	while (rc == 0 && c->roff < c->rlen && xs_conn_can_read(c)) {
		rc = xs_conn_input(c);
		if (rc == 0)
			rc = xs_conn_flush(c);
	}
	if (rc == 0 && c->overflow)
		rc = -ENOBUFS;
	if (rc == 0 && c->closing && TAILQ_EMPTY(&c->out))
		rc = -ECONNRESET;
	if (rc == 0) {
		if (TAILQ_EMPTY(&c->out))
			event_del(sc->wev);
		else
			event_add(sc->wev, NULL);
		/* replies not read: no more requests until they drain (the
		 * write event brings us back then) */
		if (c->out_max && c->out_bytes >= c->out_max)
			event_del(sc->rev);
		else
			event_add(sc->rev, NULL);
	}
	return rc;
}

/* "pid 123 (xenstore-watch)" into buf, from SO_PEERCRED at accept. */
static const char *sock_peer_name(const struct sock_conn *sc, char *buf,
				  size_t size)
{
	char path[64], comm[32] = "?";
	FILE *f;

	if (!sc->pid)
		return "pid unknown";
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)sc->pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(buf, size, "pid %d (%s)", (int)sc->pid, comm);
	return buf;
}

static void sock_on_io(evutil_socket_t fd, short what, void *arg)
{
	struct sock_conn *sc = arg;
	int rc = sock_service(sc, what & EV_READ);
	char name[96];

	if (rc == -ENOBUFS)
		log_warnx("socket connection %llu, %s: %zu bytes of replies "
			  "and watch events not read (bound %zu): dropped",
			  (unsigned long long)sc->c->id,
			  sock_peer_name(sc, name, sizeof(name)),
			  sc->c->out_bytes, sc->c->out_max);
	else if (rc < 0 && rc != -ECONNRESET && rc != -EPIPE)
		log_errno(LOG_INFO, rc, "socket connection %llu closed",
			  (unsigned long long)sc->c->id);
	if (rc < 0)
		xs_conn_free(sc->c);
}

/* A client connection on fd (ours now, closed on failure). */
static struct xs_conn *sock_conn_add(struct xs_sock *ls, int fd, bool readonly)
{
	struct sock_conn *sc = calloc(1, sizeof(*sc));

	if (!sc) {
		close(fd);
		return NULL;
	}
	sc->fd = fd;
	{
		struct ucred cred;
		socklen_t clen = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
			sc->pid = cred.pid;
	}
	sc->rev = event_new(ls->base, fd, EV_READ | EV_PERSIST, sock_on_io, sc);
	sc->wev = event_new(ls->base, fd, EV_WRITE | EV_PERSIST, sock_on_io, sc);
	sc->c = sc->rev && sc->wev ? xs_conn_new(ls->st, &sock_ops, sc, 0, true)
				   : NULL;
	if (sc->c) {
		sc->c->readonly = readonly;
		sc->c->out_max = ls->opts.out_max;
	}
	if (!sc->c || event_add(sc->rev, NULL)) {
		log_warnx("cannot set up a socket connection: out of memory");
		if (sc->c) {
			xs_conn_free(sc->c); /* destroys sc */
			return NULL;
		}
		if (sc->rev)
			event_free(sc->rev);
		if (sc->wev)
			event_free(sc->wev);
		close(fd);
		free(sc);
		return NULL;
	}
	return sc->c;
}

static void sock_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct xs_sock *ls = arg;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept on %s", ls->path);
		return;
	}
	sock_conn_add(ls, fd, ls->opts.readonly);
}

/* xs_sock_adopt_conn - see sock.h. */
struct xs_conn *xs_sock_adopt_conn(struct xs_sock *ls, int fd, bool readonly)
{
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return NULL;
	return sock_conn_add(ls, fd, readonly);
}

/* xs_sock_conn_fd - see sock.h. */
int xs_sock_conn_fd(const struct xs_conn *c)
{
	return c->ops == &sock_ops ? ((const struct sock_conn *)c->priv)->fd
				   : -1;
}

/* xs_sock_fd - see sock.h. */
int xs_sock_fd(const struct xs_sock *ls)
{
	return ls->fd;
}

/* Listen on path, or on fd >= 0 (inherited, listening there already). */
static struct xs_sock *sock_open(struct event_base *base, struct xs_store *st,
				 const char *path, const struct xs_sock_opts *o,
				 int fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct xs_sock *ls;
	char dir[PATH_MAX];
	char *slash;
	int saved;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return NULL;
	ls->st = st;
	ls->base = base;
	ls->fd = -1;
	if (o)
		ls->opts = *o;
	strcpy(ls->path, path);
	strcpy(sun.sun_path, path);
	if (fd >= 0) {
		ls->fd = fd;
		goto listening;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		daemon_ensure_dir(dir, 0755);
	}
	ls->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls->fd < 0)
		goto fail;
	/* a socket nobody answers on is a stale one of an earlier run; one
	 * that answers belongs to a running xenstored: leave it alone */
	{
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			errno = EADDRINUSE;
			goto fail;
		}
		if (probe >= 0)
			close(probe);
	}
	unlink(path);
	if (bind(ls->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, ls->opts.readonly ? 0660 : 0600) < 0 ||
	    listen(ls->fd, 128) < 0)
		goto fail;
listening:
	ls->ev = event_new(base, ls->fd, EV_READ | EV_PERSIST, sock_on_accept,
			   ls);
	if (!ls->ev || event_add(ls->ev, NULL)) {
		errno = ENOMEM;
		goto fail;
	}
	return ls;
fail:
	saved = errno;
	if (ls->ev)
		event_free(ls->ev);
	if (ls->fd >= 0)
		close(ls->fd);
	free(ls);
	errno = saved;
	return NULL;
}

/* xs_sock_listen - see sock.h. */
struct xs_sock *xs_sock_listen(struct event_base *base, struct xs_store *st,
			       const char *path, const struct xs_sock_opts *o)
{
	return sock_open(base, st, path, o, -1);
}

/* xs_sock_adopt - see sock.h. */
struct xs_sock *xs_sock_adopt(struct event_base *base, struct xs_store *st,
			      const char *path, int fd,
			      const struct xs_sock_opts *o)
{
	struct stat sb;
	int type;
	socklen_t tlen = sizeof(type);

	if (fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_STREAM || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		errno = EBADF;
		return NULL;
	}
	return sock_open(base, st, path, o, fd);
}

/* xs_sock_close - see sock.h. */
void xs_sock_close(struct xs_sock *ls)
{
	if (!ls)
		return;
	event_free(ls->ev);
	close(ls->fd);
	unlink(ls->path);
	free(ls);
}
