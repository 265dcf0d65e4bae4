/*
 * loophv_fixture.h - start a private loophvd for a test suite.
 *
 * lhf_start() makes a temporary run directory, starts
 * $top_builddir/loophv/loophvd --foreground in it through tests/lib/launch.h
 * (it returns once loophvd says READY=1; loophvd gets SIGTERM if the test
 * process dies); lhf_stop() terminates it and removes the directory.
 * lhf_opts() gives hv_open_opts pointing at it.
 *
 * lhf_raw_*() speak loophvd's protocol (lib/loophv-proto.h) directly, for
 * tests that send what libhv never would.
 */
#ifndef SPLITDRV_LOOPHV_FIXTURE_H
#define SPLITDRV_LOOPHV_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hv.h"

extern char lhf_run_dir[];
extern pid_t lhf_pid;

/* lhf_spawn - start loophvd in dir (extra_arg may be NULL), wait until it
 * serves; its pid (exits 99 when it does not start). */
pid_t lhf_spawn(const char *dir, const char *extra_arg);
void lhf_start(void);
void lhf_stop(void);
const struct hv_open_opts *lhf_opts(void);
/* lhf_guest - create a loopback guest domain (mem MiB) or fail the test. */
struct hv *lhf_guest(unsigned int mem_mib);
/* lhf_dom0 - open as dom0 or fail the test. */
struct hv *lhf_dom0(void);

struct lh_req;
struct lh_rep;

/* The ret of a raw request whose connection was closed, not answered. */
#define LHF_RAW_EOF (-1000)

/* lhf_raw_connect - a SOCK_SEQPACKET connection to the loophvd of dir. */
int lhf_raw_connect(const char *dir);
/* lhf_raw_send - send len bytes as one message and read the reply into
 * rep (may be NULL); its ret, or LHF_RAW_EOF. The descriptors it carries
 * go to fds[*nfds...] while *nfds < maxfds (counting up *nfds); the rest
 * (all of them when fds is NULL) are closed. */
int lhf_raw_send(int fd, const void *buf, size_t len, struct lh_rep *rep,
		 int *fds, int *nfds, int maxfds);
/* lhf_raw_rpc - send *req (its seq set to 1); as lhf_raw_send. */
int lhf_raw_rpc(int fd, struct lh_req *req, struct lh_rep *rep, int *fds,
		int *nfds, int maxfds);
/* lhf_raw_op - send req (NULL: all zero) as op; the reply's ret. */
int lhf_raw_op(int fd, uint32_t op, struct lh_req *req);

#endif
