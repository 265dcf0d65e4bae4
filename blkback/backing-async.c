/*
 * backing-async.c - open a backing without stalling the event loop.
 *
 * blkback serves every device from one event-loop thread. Opening an NBD
 * backing means a connect (maybe a DNS look-up first) and a handshake with
 * a server we do not control: a slow or silent one would hold the loop for
 * up to the handshake's timeout, and every other guest's I/O with it. So
 * the blocking half (blkbk_nbd_prepare: the socket and nothing else) runs
 * on a worker thread, one per open, and the loop half (putting the socket
 * on a bufferevent, or opening a file and its io_uring) runs in the loop.
 *
 *   loop thread                          worker thread
 *   open_async: job, eventfd, event
 *     pthread_create ───────────────────▶ blkbk_nbd_prepare (≤ timeout)
 *   ... serves everybody else ...         job->rc, job->conn
 *   job_on_done ◀──── eventfd write ───── (returns)
 *     pthread_join (immediate), attach, done(arg, rc, b)
 *
 * The worker writes job->rc and job->conn before its eventfd write and
 * the loop reads them only after pthread_join(): the join orders them.
 * A file backing needs no worker: its open runs from the loop at once,
 * through an event made active, so that done() is never called from
 * inside blkbk_backing_open_async() in either case.
 *
 * Cancellation only marks the job: a worker blocked in a handshake cannot
 * be interrupted portably, and it is bounded by its deadline anyway. The
 * loop frees a cancelled job (and closes its socket) when it finishes;
 * at exit blkbk_backing_open_drain() joins what is left. Jobs are only
 * touched by the loop thread, apart from the fields the worker fills.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include "blkback/backing.h"
#include "blkback/common.h"

struct blkbk_open_job {
	struct event_base *base;
	struct blkbk_params p;
	int readonly;
	int timeout_ms;
	blkbk_open_done_fn done;
	void *arg;
	int cancelled;
	int efd; /* the worker's "finished", -1 without a worker */
	struct event *ev;
	pthread_t thr;
	int thr_live; /* created and not joined */
	/* written by the worker, read after pthread_join() */
	int rc;
	struct blkbk_nbd_conn conn;
	LIST_ENTRY(blkbk_open_job) link;
};

static LIST_HEAD(, blkbk_open_job) jobs = LIST_HEAD_INITIALIZER(jobs);
static unsigned int njobs;

static void job_free(struct blkbk_open_job *j)
{
	if (j->thr_live) {
		pthread_join(j->thr, NULL);
		j->thr_live = 0;
	}
	if (j->conn.fd >= 0)
		close(j->conn.fd);
	if (j->ev)
		event_free(j->ev);
	if (j->efd >= 0)
		close(j->efd);
	LIST_REMOVE(j, link);
	njobs--;
	free(j);
}

static void *job_worker(void *arg)
{
	struct blkbk_open_job *j = arg;
	uint64_t one = 1;

	j->rc = blkbk_nbd_prepare(&j->p, j->timeout_ms, &j->conn);
	/* The loop reads rc/conn after joining us; this only wakes it. */
	while (write(j->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

static void job_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct blkbk_open_job *j = arg;
	struct blkbk_backing *b = NULL;
	blkbk_open_done_fn done = j->done;
	void *darg = j->arg;
	int rc;

	(void)fd;
	(void)what;
	if (j->thr_live) {
		pthread_join(j->thr, NULL);
		j->thr_live = 0;
	}
	if (j->cancelled) {
		job_free(j);
		return;
	}
	if (j->p.kind == BLKBK_BACKING_NBD) {
		rc = j->rc;
		if (rc == 0)
			rc = blkbk_backing_nbd_attach(j->base, &j->p,
						      j->readonly, &j->conn, &b);
	} else {
		rc = blkbk_backing_open(j->base, &j->p, j->readonly,
					j->timeout_ms, &b);
	}
	job_free(j);
	done(darg, rc, rc == 0 ? b : NULL);
}

struct blkbk_open_job *blkbk_backing_open_async(struct event_base *base,
						const struct blkbk_params *p,
						int readonly, int timeout_ms,
						blkbk_open_done_fn done,
						void *arg)
{
	struct blkbk_open_job *j;
	int rc;

	if (!base || !p || !done ||
	    (p->kind != BLKBK_BACKING_FILE && p->kind != BLKBK_BACKING_NBD)) {
		errno = EINVAL;
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->base = base;
	j->p = *p;
	j->readonly = readonly;
	j->timeout_ms = timeout_ms;
	j->done = done;
	j->arg = arg;
	j->efd = -1;
	j->conn.fd = -1;
	LIST_INSERT_HEAD(&jobs, j, link);
	njobs++;
	if (p->kind != BLKBK_BACKING_NBD) {
		/* nothing slow: open from the loop's next turn */
		j->ev = event_new(base, -1, 0, job_on_done, j);
		if (!j->ev)
			goto fail;
		event_active(j->ev, 0, 0);
		return j;
	}
	j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->efd < 0)
		goto fail;
	j->ev = event_new(base, j->efd, EV_READ, job_on_done, j);
	if (!j->ev || event_add(j->ev, NULL) < 0)
		goto fail;
	rc = pthread_create(&j->thr, NULL, job_worker, j);
	if (rc != 0) {
		errno = rc;
		goto fail;
	}
	j->thr_live = 1;
	return j;
fail:
	rc = errno ? errno : ENOMEM;
	job_free(j);
	errno = rc;
	return NULL;
}

void blkbk_backing_open_cancel(struct blkbk_open_job *j)
{
	if (!j)
		return;
	j->cancelled = 1;
	if (!j->thr_live)
		job_free(j); /* no worker: nothing will finish it */
}

void blkbk_backing_open_drain(void)
{
	while (!LIST_EMPTY(&jobs))
		job_free(LIST_FIRST(&jobs));
}

unsigned int blkbk_backing_open_pending(void)
{
	return njobs;
}
