/*
 * lu.h - live update: XS_CONTROL "live-update" hands the store, its
 * connections, watches and transactions to a new xenstored binary (lu.c).
 *
 * The state travels in a file in the record format of Xen's
 * docs/designs/xenstore-migration.md (version 2); socket fds survive
 * the exec, rings are mapped again and their event channels bound again
 * by the new process. See doc/xenstored.md, "Live update".
 */
#ifndef XENSTORED_LU_H
#define XENSTORED_LU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xs_store;
struct xs_conn;
struct xs_buf;
struct xs_lu_state;

/*
 * What the daemon lends live update (the store core knows no sockets):
 * conn_fd: the socket fd of connection c, -1 if c is not a socket client;
 * listen_fd: the read-write listening socket's fd;
 * exec: run binary (argv from cmdline if not NULL, else the daemon's
 *   own) with --live-update=<state>; returns only on failure, -errno.
 */
struct xs_lu_ops {
	int (*conn_fd)(void *arg, const struct xs_conn *c);
	int (*listen_fd)(void *arg);
	int (*exec)(void *arg, const char *binary, const char *cmdline,
		    const char *state);
	void *arg;
};

/* xs_lu_setup - offer live update on st, state written to state_path.
 * 0 or -ENOMEM. */
int xs_lu_setup(struct xs_store *st, const struct xs_lu_ops *ops,
		const char *state_path);
void xs_lu_free(struct xs_store *st);

/*
 * xs_lu_control - XS_CONTROL "live-update" ARGS as xenstore-control
 * sends them: -f BINARY, -c CMDLINE, -s [-t SECS] [-F] [-v VERSION], -a;
 * -b/-d (a stubdom kernel) are refused. The reply text goes to out:
 * "OK", "BUSY" (transactions open, no -F: asked again), or an error
 * message. On success -s does not return: the new binary answers "OK".
 * -errno only for malformed arguments.
 */
int xs_lu_control(struct xs_store *st, struct xs_conn *c, char **argv, int argc,
		  struct xs_buf *out);

/*
 * xs_lu_write - write st as a migration stream to fd: every node, domain,
 * connection (sockets by fd, via ops->conn_fd; others that are neither
 * socket nor ring are left out), watch and open transaction. req (may be
 * NULL) is the connection whose request runs now: its reply (reply,
 * rlen bytes, a whole message) is written as its pending output.
 * 0 or -errno.
 */
int xs_lu_write(struct xs_store *st, int fd, const struct xs_lu_ops *ops,
		struct xs_conn *req, const void *reply, size_t rlen);

/*
 * xs_lu_read - read and check a migration stream (header, every record's
 * length and fields, an END record). NULL with errno, and a message for
 * the log in err.
 */
struct xs_lu_state *xs_lu_read(const char *path, char *err, size_t errlen);
void xs_lu_state_free(struct xs_lu_state *s);

/*
 * xs_lu_restore_store - nodes, quotas and domains of s into st (a store
 * just initialised, no journal plugged in yet). *listen_fd: the
 * read-write listening socket (-1: none). 0 or -errno.
 */
int xs_lu_restore_store(struct xs_store *st, const struct xs_lu_state *s,
			int *listen_fd);

/*
 * How the daemon takes back a socket client (adopt_sock: a connection on
 * fd, readonly or not; NULL on failure). Ring connections are those the
 * ring transport attached for their domain (by domid).
 */
struct xs_lu_adopt {
	struct xs_conn *(*adopt_sock)(void *arg, int fd, bool readonly);
	void *arg;
};

/*
 * xs_lu_restore_conns - connections of s (pending input and output),
 * their watches and transactions (open transactions come back failed:
 * their commit answers EAGAIN). Call after the rings were attached; each
 * restored connection is kicked so that its transport serves what
 * waits. 0 or -errno (a connection that cannot be restored is dropped
 * and logged, not an error).
 */
int xs_lu_restore_conns(struct xs_store *st, const struct xs_lu_state *s,
			const struct xs_lu_adopt *a);

#endif /* XENSTORED_LU_H */
