/*
 * sock.c - the unix socket transport.
 *
 * Every socket client is dom0's tools: privileged, domid 0 (as with C
 * xenstored; access is controlled by the socket's file mode, 0600). One
 * read(2) fills the connection's read buffer, so pipelined requests cost
 * one system call per batch; replies are written as the loop allows.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct sock_conn {
	int fd;
	struct event *rev, *wev;
	struct xs_conn *c;
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
	if (rc == 0 && c->closing && TAILQ_EMPTY(&c->out))
		rc = -ECONNRESET;
	if (rc == 0) {
		if (TAILQ_EMPTY(&c->out))
			event_del(sc->wev);
		else
			event_add(sc->wev, NULL);
	}
	return rc;
}

static void sock_on_io(evutil_socket_t fd, short what, void *arg)
{
	struct sock_conn *sc = arg;
	int rc = sock_service(sc, what & EV_READ);

	if (rc < 0) {
		if (rc != -ECONNRESET && rc != -EPIPE)
			log_errno(LOG_INFO, rc, "socket connection %llu closed",
				  (unsigned long long)sc->c->id);
		xs_conn_free(sc->c);
	}
}

static void sock_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct xs_sock *ls = arg;
	struct sock_conn *sc;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept on %s", ls->path);
		return;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		close(fd);
		return;
	}
	sc->fd = fd;
	sc->rev = event_new(ls->base, fd, EV_READ | EV_PERSIST, sock_on_io, sc);
	sc->wev = event_new(ls->base, fd, EV_WRITE | EV_PERSIST, sock_on_io, sc);
	sc->c = sc->rev && sc->wev ? xs_conn_new(ls->st, &sock_ops, sc, 0, true)
				   : NULL;
	if (!sc->c || event_add(sc->rev, NULL)) {
		log_warnx("cannot set up a socket connection: out of memory");
		if (sc->c) {
			xs_conn_free(sc->c); /* destroys sc */
			return;
		}
		if (sc->rev)
			event_free(sc->rev);
		if (sc->wev)
			event_free(sc->wev);
		close(fd);
		free(sc);
	}
}

/* xs_sock_listen - see sock.h. */
struct xs_sock *xs_sock_listen(struct event_base *base, struct xs_store *st,
			       const char *path)
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
	strcpy(ls->path, path);
	strcpy(sun.sun_path, path);
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
	    chmod(path, 0600) < 0 || listen(ls->fd, 128) < 0)
		goto fail;
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
