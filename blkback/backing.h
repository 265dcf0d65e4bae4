/*
 * backing.h - the storage behind a virtual block device, as a small table
 * of operations (in the manner of vmd's vioraw/vioqcow2).
 *
 * Two implementations:
 *   backing-file.c  raw file or block device through io_uring; completions
 *                   reach libevent through a registered eventfd;
 *   backing-nbd.c   an NBD client (TCP or unix socket), so that qcow2 and
 *                   other formats work through qemu-nbd, and remote storage
 *                   through any NBD server.
 *
 * The ring layer (ring.c) turns one guest request into one struct
 * blkbk_io, hands it to ->submit() and, after a batch of requests, calls
 * ->kick() once so that a backing can submit the batch in one system call.
 * Each io completes exactly once through io->done(io, res), res = bytes
 * transferred (>= 0) or -errno, always from the event loop (never from
 * inside ->submit()). After a batch of completions the backing calls
 * b->batch_done(b->batch_arg) so that the caller can push its responses
 * and notify once per batch.
 *
 * Offsets and lengths are in bytes. Data I/O is described by an iovec
 * array that the caller keeps alive (and its pages mapped) until done().
 */
#ifndef SPLITDRV_BLKBACK_BACKING_H
#define SPLITDRV_BLKBACK_BACKING_H

#include <stdint.h>
#include <sys/uio.h>

#include <event2/event.h>

enum blkbk_io_op {
	BLKBK_IO_READ = 0,
	BLKBK_IO_WRITE,
	BLKBK_IO_FLUSH, /* commit the volatile cache (fdatasync / NBD_CMD_FLUSH) */
	BLKBK_IO_DISCARD, /* punch a hole: reads as zeros afterwards */
};

struct blkbk_io;
typedef void (*blkbk_io_done_fn)(struct blkbk_io *io, int res);

struct blkbk_io {
	enum blkbk_io_op op;
	uint64_t offset; /* bytes */
	uint64_t len; /* bytes: total of iov for read/write, range for discard */
	struct iovec *iov; /* read/write; owned by the caller */
	int iovcnt;
	blkbk_io_done_fn done;
	void *arg;
	/* private to the backing */
	uint64_t done_bytes;
	uint32_t parts; /* requests still out for this io (NBD) */
	int err;        /* first error of those */
	struct blkbk_io *next;
};

struct blkbk_backing;

struct blkbk_backing_ops {
	const char *name;
	/* queue io; 0, or -errno (then done() is not called) */
	int (*submit)(struct blkbk_backing *b, struct blkbk_io *io);
	/* submit what was queued (batching); may be a no-op */
	void (*kick)(struct blkbk_backing *b);
	/* number of ios submitted and not yet completed */
	unsigned int (*inflight)(struct blkbk_backing *b);
	/* free; only with nothing in flight */
	void (*close)(struct blkbk_backing *b);
};

struct blkbk_backing {
	const struct blkbk_backing_ops *ops;
	uint64_t size;        /* bytes */
	uint32_t sector_size; /* logical block size in bytes (>= 512) */
	unsigned int readonly : 1;
	unsigned int can_flush : 1;
	unsigned int can_discard : 1;
	unsigned int can_discard_secure : 1;
	unsigned int direct : 1; /* O_DIRECT: I/O must be sector aligned */
	unsigned int failed : 1; /* lost for good (NBD: connection gone) */
	/* set by the user: called after each batch of completions */
	void (*batch_done)(void *arg);
	void *batch_arg;
	char desc[128]; /* for logs and status: "file:/x", "nbd://h/e" */
};

struct blkbk_params;

/*
 * blkbk_backing_open - open the backing that p names (see params.c),
 * read-only if readonly or if the store itself is read-only. The NBD
 * handshake is done here, blocking, with a timeout of timeout_ms (tests
 * and benches; the daemon uses blkbk_backing_open_async() below).
 * Returns 0 and *out, or -errno.
 */
int blkbk_backing_open(struct event_base *base, const struct blkbk_params *p,
		       int readonly, int timeout_ms, struct blkbk_backing **out);

/* blkbk_backing_close - NULL-safe; only with nothing in flight. */
void blkbk_backing_close(struct blkbk_backing *b);

/* Implementations (called by blkbk_backing_open). */
int blkbk_backing_file_open(struct event_base *base, const char *path,
			    int readonly, int direct,
			    struct blkbk_backing **out);
int blkbk_backing_nbd_open(struct event_base *base,
			   const struct blkbk_params *p, int readonly,
			   int timeout_ms, struct blkbk_backing **out);

/*
 * The NBD open in two halves. blkbk_nbd_prepare() connects and negotiates
 * (blocking, bounded by timeout_ms; DNS included) and touches nothing but
 * its socket, so it may run on any thread. blkbk_backing_nbd_attach()
 * puts the negotiated socket on the event loop; it takes c->fd whatever
 * it returns. Both return 0 or -errno.
 */
struct blkbk_nbd_conn {
	int fd;
	uint64_t size;
	uint16_t tflags;
	uint32_t min_block;
};
int blkbk_nbd_prepare(const struct blkbk_params *p, int timeout_ms,
		      struct blkbk_nbd_conn *c);
int blkbk_backing_nbd_attach(struct event_base *base,
			     const struct blkbk_params *p, int readonly,
			     struct blkbk_nbd_conn *c,
			     struct blkbk_backing **out);

/*
 * blkbk_backing_open_async - blkbk_backing_open() without stalling the
 * event loop: what can block for long (an NBD server's connect and
 * handshake) runs on a worker thread, bounded by timeout_ms. done(arg,
 * rc, b) is called once, later, from base's loop (never from inside this
 * call): rc 0 and b (the caller's), or -errno and NULL. Returns the job,
 * or NULL with errno (then done is never called).
 */
struct blkbk_open_job;
typedef void (*blkbk_open_done_fn)(void *arg, int rc, struct blkbk_backing *b);
struct blkbk_open_job *blkbk_backing_open_async(struct event_base *base,
						const struct blkbk_params *p,
						int readonly, int timeout_ms,
						blkbk_open_done_fn done,
						void *arg);
/* blkbk_backing_open_cancel - done() will not be called; what the worker
 * opens is closed when it finishes (NULL-safe). */
void blkbk_backing_open_cancel(struct blkbk_open_job *j);
/* blkbk_backing_open_drain - at exit: wait for every worker (at most its
 * timeout) and free every job, cancelled or not; no done() is called. */
void blkbk_backing_open_drain(void);
/* blkbk_backing_open_pending - jobs not yet finished (for status). */
unsigned int blkbk_backing_open_pending(void);

#endif /* SPLITDRV_BLKBACK_BACKING_H */
