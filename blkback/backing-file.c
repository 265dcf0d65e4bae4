/*
 * backing-file.c - a raw file or block device through io_uring.
 *
 * One io_uring per device. ->submit() only prepares an SQE (read/write as
 * readv/writev, flush as fdatasync, discard as fallocate
 * PUNCH_HOLE|KEEP_SIZE); ->kick() submits the whole batch with one
 * io_uring_submit(). Completions wake libevent through an eventfd
 * registered with io_uring_register_eventfd(); the handler takes every CQE
 * there is, advances the CQ, and only then calls the done() callbacks (so
 * a callback may submit again), then batch_done() once.
 *
 * Short reads and writes (legal for regular files) are continued from where
 * they stopped; a transfer that returns 0 (the file shrank under us) is
 * -EIO.
 * When the submission queue is full, or the kernel already holds as many
 * ios as the completion queue has room for, ios wait on a backlog list and
 * are started as completions come in.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include "blkback/backing.h"
#include "log.h"

#define FB_SQ_ENTRIES 256
#define FB_CQE_BATCH  64

struct file_backing {
	struct blkbk_backing b;
	int fd;
	int efd;
	struct io_uring ring;
	struct event *ev;
	unsigned int in_kernel; /* SQEs prepared or submitted, not completed */
	unsigned int max_in_kernel;
	unsigned int unsubmitted;
	struct blkbk_io *backlog, *backlog_tail;
	unsigned int backlog_len;
};

static struct file_backing *fb_of(struct blkbk_backing *b)
{
	return (struct file_backing *)b;
}

/* Prepare one SQE for io (from io->done_bytes on); 0 or -EAGAIN (full). */
static int fb_prep(struct file_backing *fb, struct blkbk_io *io)
{
	struct io_uring_sqe *sqe;

	if (fb->in_kernel >= fb->max_in_kernel)
		return -EAGAIN;
	sqe = io_uring_get_sqe(&fb->ring);
	if (!sqe) {
		/* SQ full: push what is there, then try once more */
		if (io_uring_submit(&fb->ring) >= 0)
			fb->unsubmitted = 0;
		sqe = io_uring_get_sqe(&fb->ring);
		if (!sqe)
			return -EAGAIN;
	}
	switch (io->op) {
	case BLKBK_IO_READ:
		io_uring_prep_readv(sqe, fb->fd, io->iov, (unsigned)io->iovcnt,
				    io->offset + io->done_bytes);
		break;
	case BLKBK_IO_WRITE:
		io_uring_prep_writev(sqe, fb->fd, io->iov, (unsigned)io->iovcnt,
				     io->offset + io->done_bytes);
		break;
	case BLKBK_IO_FLUSH:
		io_uring_prep_fsync(sqe, fb->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLKBK_IO_DISCARD:
		io_uring_prep_fallocate(sqe, fb->fd,
					FALLOC_FL_PUNCH_HOLE |
						FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	}
	io_uring_sqe_set_data(sqe, io);
	fb->in_kernel++;
	fb->unsubmitted++;
	return 0;
}

static void fb_backlog_push(struct file_backing *fb, struct blkbk_io *io)
{
	io->next = NULL;
	if (fb->backlog_tail)
		fb->backlog_tail->next = io;
	else
		fb->backlog = io;
	fb->backlog_tail = io;
	fb->backlog_len++;
}

static void fb_backlog_start(struct file_backing *fb)
{
	while (fb->backlog) {
		struct blkbk_io *io = fb->backlog;

		if (fb_prep(fb, io) < 0)
			break;
		fb->backlog = io->next;
		if (!fb->backlog)
			fb->backlog_tail = NULL;
		fb->backlog_len--;
	}
}

static int fb_submit(struct blkbk_backing *b, struct blkbk_io *io)
{
	struct file_backing *fb = fb_of(b);

	if ((io->op == BLKBK_IO_WRITE || io->op == BLKBK_IO_DISCARD) &&
	    b->readonly)
		return -EROFS;
	if ((io->op == BLKBK_IO_READ || io->op == BLKBK_IO_WRITE) &&
	    (io->iovcnt <= 0 || io->iovcnt > IOV_MAX))
		return -EINVAL;
	io->done_bytes = 0;
	if (fb->backlog || fb_prep(fb, io) < 0)
		fb_backlog_push(fb, io);
	return 0;
}

static void fb_kick(struct blkbk_backing *b)
{
	struct file_backing *fb = fb_of(b);
	int rc;

	if (!fb->unsubmitted)
		return;
	rc = io_uring_submit(&fb->ring);
	if (rc >= 0)
		fb->unsubmitted = 0;
	else
		log_warnx("%s: io_uring_submit: %s", b->desc, strerror(-rc));
}

/* Advance io's iovec past n bytes (a short transfer). */
static void iov_advance(struct blkbk_io *io, size_t n)
{
	while (n && io->iovcnt) {
		if (n >= io->iov->iov_len) {
			n -= io->iov->iov_len;
			io->iov++;
			io->iovcnt--;
		} else {
			io->iov->iov_base = (char *)io->iov->iov_base + n;
			io->iov->iov_len -= n;
			n = 0;
		}
	}
}

static void fb_on_cqe(evutil_socket_t fd, short what, void *arg)
{
	struct file_backing *fb = arg;
	struct io_uring_cqe *cqes[FB_CQE_BATCH];
	uint64_t cnt;
	unsigned int n;
	int any = 0;

	if (read(fb->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_warn("%s: eventfd read", fb->b.desc);
	while ((n = io_uring_peek_batch_cqe(&fb->ring, cqes, FB_CQE_BATCH))) {
		struct blkbk_io *ios[FB_CQE_BATCH];
		int res[FB_CQE_BATCH];

		for (unsigned int i = 0; i < n; i++) {
			ios[i] = io_uring_cqe_get_data(cqes[i]);
			res[i] = cqes[i]->res;
		}
		/* The CQ slots are free from here: done() may submit again. */
		io_uring_cq_advance(&fb->ring, n);
		fb->in_kernel -= n;
		for (unsigned int i = 0; i < n; i++) {
			struct blkbk_io *io = ios[i];
			int r = res[i];

			if (r > 0 &&
			    (io->op == BLKBK_IO_READ ||
			     io->op == BLKBK_IO_WRITE) &&
			    io->done_bytes + (uint64_t)r < io->len) {
				/* short transfer: continue */
				io->done_bytes += (uint64_t)r;
				iov_advance(io, (size_t)r);
				if (fb->backlog || fb_prep(fb, io) < 0)
					fb_backlog_push(fb, io);
				continue;
			}
			/* no progress at all (EOF, or a device that took
			 * nothing): an error, not a short success */
			if (r == 0 &&
			    (io->op == BLKBK_IO_READ ||
			     io->op == BLKBK_IO_WRITE) &&
			    io->done_bytes < io->len)
				r = -EIO;
			if (r >= 0)
				r = (int)(io->op == BLKBK_IO_READ ||
							  io->op == BLKBK_IO_WRITE
						  ? io->done_bytes + (uint64_t)r
						  : 0);
			any = 1;
			io->done(io, r);
		}
		fb_backlog_start(fb);
	}
	fb_kick(&fb->b);
	if (any && fb->b.batch_done)
		fb->b.batch_done(fb->b.batch_arg);
}

static unsigned int fb_inflight(struct blkbk_backing *b)
{
	struct file_backing *fb = fb_of(b);

	return fb->in_kernel + fb->backlog_len;
}

static void fb_close(struct blkbk_backing *b)
{
	struct file_backing *fb = fb_of(b);

	if (fb->ev)
		event_free(fb->ev);
	io_uring_queue_exit(&fb->ring);
	close(fb->efd);
	close(fb->fd);
	free(fb);
}

static const struct blkbk_backing_ops file_ops = {
	.name = "file",
	.submit = fb_submit,
	.kick = fb_kick,
	.inflight = fb_inflight,
	.close = fb_close,
};

/* Size, logical block size and discard support of the open fd. */
static int fb_probe(struct file_backing *fb)
{
	struct stat st;

	if (fstat(fb->fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz;
		int ssz;

		if (ioctl(fb->fd, BLKGETSIZE64, &sz) < 0)
			return -errno;
		if (ioctl(fb->fd, BLKSSZGET, &ssz) < 0)
			return -errno;
		if (ssz < 512 || (ssz & (ssz - 1)))
			return -EINVAL;
		fb->b.size = sz;
		fb->b.sector_size = (uint32_t)ssz;
		/* blkdev_fallocate: PUNCH_HOLE|KEEP_SIZE discards/zeroes */
		fb->b.can_discard = !fb->b.readonly;
	} else if (S_ISREG(st.st_mode)) {
		fb->b.size = (uint64_t)st.st_size;
		fb->b.sector_size = 512;
		if (fb->b.direct) {
			/* O_DIRECT alignment of this file (Linux 6.1+); the
			 * memory side is page aligned already. */
			struct statx sx;

			if (statx(fb->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN,
				  &sx) == 0 &&
			    (sx.stx_mask & STATX_DIOALIGN)) {
				uint32_t a = sx.stx_dio_offset_align;

				if (a == 0)
					return -EINVAL; /* no O_DIRECT here */
				if (a > 512 && a <= 4096 && !(a & (a - 1)))
					fb->b.sector_size = a;
			}
		}
		/* Punching past the end changes nothing: a harmless probe of
		 * whether the file system can punch holes at all. */
		fb->b.can_discard =
			!fb->b.readonly &&
			fallocate(fb->fd,
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  st.st_size, 4096) == 0;
	} else {
		return -ENOTBLK;
	}
	fb->b.can_flush = 1;
	fb->b.can_discard_secure = 0;
	return 0;
}

int blkbk_backing_file_open(struct event_base *base, const char *path,
			    int readonly, int direct, struct blkbk_backing **out)
{
	struct file_backing *fb;
	struct io_uring_params up;
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int rc;

	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	fb->b.ops = &file_ops;
	fb->b.readonly = !!readonly;
	fb->b.direct = !!direct;
	fb->fd = fb->efd = -1;
	snprintf(fb->b.desc, sizeof(fb->b.desc), "%s", path);
	if (direct)
		flags |= O_DIRECT;
	fb->fd = open(path, flags);
	if (fb->fd < 0) {
		rc = -errno;
		free(fb);
		return rc;
	}
	rc = fb_probe(fb);
	if (rc < 0)
		goto fail_fd;
	memset(&up, 0, sizeof(up));
	rc = io_uring_queue_init_params(FB_SQ_ENTRIES, &fb->ring, &up);
	if (rc < 0)
		goto fail_fd;
	fb->max_in_kernel = up.cq_entries;
	fb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fb->efd < 0) {
		rc = -errno;
		goto fail_ring;
	}
	rc = io_uring_register_eventfd(&fb->ring, fb->efd);
	if (rc < 0)
		goto fail_efd;
	fb->ev = event_new(base, fb->efd, EV_READ | EV_PERSIST, fb_on_cqe, fb);
	if (!fb->ev || event_add(fb->ev, NULL) < 0) {
		rc = -ENOMEM;
		goto fail_efd;
	}
	*out = &fb->b;
	return 0;

fail_efd:
	if (fb->ev)
		event_free(fb->ev);
	close(fb->efd);
fail_ring:
	io_uring_queue_exit(&fb->ring);
fail_fd:
	close(fb->fd);
	free(fb);
	return rc;
}
