/*
 * launch.h - start a daemon for a test and wait until it serves.
 *
 * The daemon runs in the foreground with NOTIFY_SOCKET set to an abstract
 * datagram socket of ours and tells us READY=1 (lib/daemon.c's
 * daemon_ready()); we wait for that, for its end or for a deadline
 * (SPLITDRV_TEST_DEADLINE seconds, default 60). The daemon gets SIGTERM
 * when its parent dies (PR_SET_PDEATHSIG), so a test that dies leaves no
 * daemon behind. Used by the C fixtures (launch_daemon()) and, through
 * tests/lib/daemon-launch, by the shell tests.
 */
#ifndef SPLITDRV_TEST_LAUNCH_H
#define SPLITDRV_TEST_LAUNCH_H

#include <stddef.h>
#include <sys/types.h>

#define LAUNCH_ADDR_MAX 64

/* launch_deadline_ms - SPLITDRV_TEST_DEADLINE (seconds, > 0) or 60 s. */
int launch_deadline_ms(void);

/* launch_addr - the abstract NOTIFY_SOCKET address "@splitdrv-launch-<id>". */
void launch_addr(char *buf, size_t len, const char *id);

/* launch_bind - a datagram socket bound at addr (abstract, "@..."): fd or
 * -errno. */
int launch_bind(const char *addr);

/* launch_exec - in the daemon's process: SIGTERM when the parent (ppid,
 * as seen before) dies, NOTIFY_SOCKET=addr, stdout and stderr appended to
 * log (NULL: left as they are), then exec argv. Returns only on failure
 * (-errno), having said why on stderr. */
int launch_exec(pid_t ppid, const char *addr, const char *log,
		char *const argv[]);

/* launch_wait - until READY=1 arrives on fd (0), pid ends (-ESRCH) or
 * deadline_ms pass (-ETIMEDOUT). Other datagrams (STATUS=...) are read
 * and dropped. */
int launch_wait(int fd, pid_t pid, int deadline_ms);

/* launch_fail - the message of a failed start on stderr: the daemon's
 * name, what happened (r of launch_wait) and where its log is. */
void launch_fail(const char *name, pid_t pid, int r, int deadline_ms,
		 const char *log);

/*
 * launch_daemon - fork, launch_exec() argv (argv[0] the path) in the
 * child, wait until it is ready; its pid. On failure it says why and
 * exits 99 (a hard error of the test): the caller has nothing to undo.
 */
pid_t launch_daemon(const char *name, const char *log, char *const argv[]);

#endif /* SPLITDRV_TEST_LAUNCH_H */
