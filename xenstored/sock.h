/*
 * sock.h - the unix socket transport of xenstored.
 */
#ifndef XENSTORED_SOCK_H
#define XENSTORED_SOCK_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "xenstored/conn.h"
#include "xenstored/xenstored.h"

struct xs_sock;

struct xs_sock_opts {
	bool readonly;  /* socket_ro: clients may read and watch only */
	size_t out_max; /* bytes of output queued per client, 0: unbounded */
};

/*
 * xs_sock_listen - listen on path (mode 0600, 0660 when readonly; its
 * directory created, a stale socket replaced, EADDRINUSE if a daemon
 * answers there); every client is a privileged dom0 connection of st
 * with options o (NULL: defaults, all zero). NULL with errno.
 */
struct xs_sock *xs_sock_listen(struct event_base *base, struct xs_store *st,
			       const char *path, const struct xs_sock_opts *o);
/*
 * xs_sock_adopt - as xs_sock_listen, on fd: a socket listening on path
 * already, inherited across a live update's exec. NULL with errno.
 */
struct xs_sock *xs_sock_adopt(struct event_base *base, struct xs_store *st,
			      const char *path, int fd,
			      const struct xs_sock_opts *o);
/* xs_sock_fd - the listening socket's fd. */
int xs_sock_fd(const struct xs_sock *ls);
/*
 * xs_sock_adopt_conn - a client connection of ls on fd, connected
 * already (inherited across a live update's exec); readonly as a
 * socket_ro client. NULL (fd not ours then) on failure.
 */
struct xs_conn *xs_sock_adopt_conn(struct xs_sock *ls, int fd, bool readonly);
/* xs_sock_conn_fd - c's socket fd, -1 if c is no socket client. */
int xs_sock_conn_fd(const struct xs_conn *c);
/* xs_sock_close - stop listening and unlink the path (clients stay). */
void xs_sock_close(struct xs_sock *ls);

#endif /* XENSTORED_SOCK_H */
