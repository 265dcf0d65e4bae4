/*
 * xsd_fixture.h - start our xenstored for a test suite, in a private run
 * directory, serving <run_dir>/socket (exported as XENSTORED_PATH), through
 * tests/lib/launch.h: ready when it says READY=1, SIGTERM if the test dies.
 */
#ifndef SPLITDRV_XSD_FIXTURE_H
#define SPLITDRV_XSD_FIXTURE_H

#include <sys/types.h>

extern char xsdf_run_dir[];
extern char xsdf_sock[];
extern pid_t xsdf_pid;

/* xsdf_start - make the run dir (first call) and start xenstored with
 * extra (NULL-terminated, may be NULL) arguments; exits 99 on failure. */
void xsdf_start_args(const char *const *extra);
void xsdf_start(void);
/* xsdf_stop - SIGTERM and wait; xsdf_crash - SIGKILL and wait. */
void xsdf_stop(void);
void xsdf_crash(void);
/* xsdf_cleanup - stop if running and remove the run dir. */
void xsdf_cleanup(void);

#endif
