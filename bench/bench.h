/*
 * bench.h - shared helpers of the benchmarks in bench/: a private loophvd
 * for the run, a clock, pipe messages between the dom0 parent and the
 * guest child, and event-channel waits.
 */
#ifndef SPLITDRV_BENCH_H
#define SPLITDRV_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hv.h"

/* A loophvd started for the duration of one benchmark. */
struct bench_hvd {
	pid_t pid;
	char run_dir[4096];
	int own_dir; /* run_dir was made by us (mkdtemp): removed at the end */
};

/*
 * bench_hvd_start - fork+exec `loophvd --foreground --run-dir DIR` and wait
 * (up to 10 s) for DIR/loophvd.sock. loophvd is `path` if not NULL, else
 * $LOOPHVD, else ../loophv/loophvd next to this binary. run_dir NULL: a new
 * mkdtemp directory. Returns 0 or -errno, with a message on stderr.
 */
int bench_hvd_start(struct bench_hvd *d, const char *path, const char *run_dir);
/* bench_hvd_stop - SIGTERM loophvd, reap it, remove a mkdtemp run dir. */
void bench_hvd_stop(struct bench_hvd *d);

/*
 * bench_open_dom0 - hv_open() of the loop provider at d's run dir; prints
 * a clear message (and returns NULL) when the provider is missing or
 * refuses us.
 */
struct hv *bench_open_dom0(const struct bench_hvd *d);
/* bench_create_guest - hv_domain_create() of a loop guest, messages as
 * bench_open_dom0. */
struct hv *bench_create_guest(const struct bench_hvd *d, const char *name);
/* bench_create_guest_sized - the same with mem_bytes of RAM and
 * grant_frames grant-table frames. */
struct hv *bench_create_guest_sized(const struct bench_hvd *d, const char *name,
				    uint64_t mem_bytes, uint32_t grant_frames);

/* bench_now - CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* bench_send/bench_recv - one fixed-size message over a pipe: 0 or -errno
 * (-EPIPE when the other side is gone). */
int bench_send(int fd, const void *buf, size_t len);
int bench_recv(int fd, void *buf, size_t len);

/*
 * bench_evtchn_wait - wait until port fires on h: poll the handle's fd,
 * then take pending ports (unmasking each) until ours shows up. 0, or
 * -ETIMEDOUT after timeout_ms without it, or the hv error.
 */
int bench_evtchn_wait(struct hv_evtchn *h, evtchn_port_t port, int timeout_ms);

/* bench_parse_u64 - strict decimal (with optional k/M suffix); -EINVAL. */
int bench_parse_u64(const char *s, uint64_t *out);

#endif /* SPLITDRV_BENCH_H */
