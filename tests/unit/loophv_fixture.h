/*
 * loophv_fixture.h - start a private loophvd for a test suite.
 *
 * lhf_start() makes a temporary run directory, starts
 * $top_builddir/loophv/loophvd --foreground in it through tests/lib/launch.h
 * (it returns once loophvd says READY=1; loophvd gets SIGTERM if the test
 * process dies); lhf_stop() terminates it and removes the directory.
 * lhf_opts() gives hv_open_opts pointing at it.
 */
#ifndef SPLITDRV_LOOPHV_FIXTURE_H
#define SPLITDRV_LOOPHV_FIXTURE_H

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

#endif
