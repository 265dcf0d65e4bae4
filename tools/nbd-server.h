/*
 * nbd-server.h - a small NBD server on a unix socket, over libevent:
 * one export backed by a table of disk functions (in loopguest: blkfront).
 *
 * Protocol (NetworkBlockDevice's proto.md): fixed newstyle handshake;
 * options NBD_OPT_GO, NBD_OPT_INFO (NBD_INFO_EXPORT, NAME, DESCRIPTION,
 * BLOCK_SIZE), NBD_OPT_EXPORT_NAME, NBD_OPT_LIST, NBD_OPT_ABORT (others
 * answered NBD_REP_ERR_UNSUP); simple replies; NBD_CMD_READ, WRITE (FUA
 * as write + flush), FLUSH, TRIM, WRITE_ZEROES, DISC. The transmission
 * flags come from the export: read-only, flush, trim.
 *
 * Clients are untrusted: every header is checked before use (magic,
 * command, flags, offset + length within the export, length limits);
 * what breaks the protocol (bad magic, an option or write payload over
 * the limits, a handshake not done in 30 s) drops that client with a log
 * line, and others go on; a client that does not read its replies stops
 * being read until it does. Several clients are served at once;
 * each request runs to completion in the event loop (the disk functions
 * block), in arrival order.
 */
#ifndef SPLITDRV_TOOLS_NBD_SERVER_H
#define SPLITDRV_TOOLS_NBD_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

/* the largest read or write we take (NBD_INFO_BLOCK_SIZE maximum) */
#define NBDS_MAX_PAYLOAD (32u << 20)

/*
 * The disk: ranges given to these are aligned to block_size and within
 * size (the server does read-modify-write for unaligned client requests).
 * Each returns 0 or -errno.
 */
struct nbds_disk_ops {
	int (*read)(void *arg, uint64_t off, void *buf, size_t len);
	int (*write)(void *arg, uint64_t off, const void *buf, size_t len);
	int (*flush)(void *arg);                            /* may be NULL */
	int (*trim)(void *arg, uint64_t off, uint64_t len); /* may be NULL */
};

struct nbds_export {
	const char *name;        /* accepted besides "" (the default) */
	const char *description; /* may be NULL */
	uint64_t size;           /* bytes, a multiple of block_size */
	uint32_t block_size;     /* power of two, 1..65536 */
	unsigned int readonly : 1;
	unsigned int can_flush : 1;
	unsigned int can_trim : 1;
	const struct nbds_disk_ops *ops;
	void *arg;
};

struct nbds_stats {
	uint64_t clients, dropped, requests, errors;
	uint64_t bytes_read, bytes_written;
};

struct nbds;

/*
 * nbds_new - listen on the unix socket path (a stale socket file there is
 * replaced) and serve exp (copied; name and description too) to up to
 * max_clients at once (0 = 16). NULL with errno.
 */
struct nbds *nbds_new(struct event_base *base, const char *path,
		      const struct nbds_export *exp, unsigned int max_clients);
/* nbds_free - drop the clients, close and remove the socket. NULL-safe. */
void nbds_free(struct nbds *s);
/* nbds_get_stats - counters since nbds_new. */
void nbds_get_stats(const struct nbds *s, struct nbds_stats *st);

#endif /* SPLITDRV_TOOLS_NBD_SERVER_H */
