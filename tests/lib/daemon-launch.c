/*
 * daemon-launch - start a daemon for a shell test and wait until it
 * serves (launch.h), in two halves because the daemon must stay the
 * test shell's child (its $!, its `wait`, SIGTERM when the shell dies):
 *
 *   daemon-launch exec [--log FILE] -- CMD [ARG...] &
 *	becomes CMD (same pid) with NOTIFY_SOCKET=@splitdrv-launch-<pid>
 *	and PR_SET_PDEATHSIG=SIGTERM, once the waiter below listens
 *   daemon-launch wait NAME PID [LOG]
 *	until daemon PID says READY=1 (0), ends or the deadline passes (1,
 *	with a message naming NAME and LOG)
 *
 * The deadline is SPLITDRV_TEST_DEADLINE seconds (default 60).
 * tests/integration/xenstored-common.sh wraps both in launch().
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: daemon-launch exec [--log FILE] -- CMD [ARG...]\n"
		"       daemon-launch wait NAME PID [LOG]\n");
	return 2;
}

/* listening - whether a waiter has bound the abstract address yet. */
static int listening(const char *addr)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(addr);
	int fd, ok;

	memcpy(sun.sun_path + 1, addr + 1, n - 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sun,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) ==
	     0;
	close(fd);
	return ok;
}

static int cmd_exec(int argc, char **argv)
{
	char id[16], addr[LAUNCH_ADDR_MAX];
	const char *log = NULL;
	pid_t ppid = getppid();
	int i = 0, waited = 0, deadline = launch_deadline_ms();

	if (i < argc && !strcmp(argv[i], "--log") && i + 1 < argc) {
		log = argv[i + 1];
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "--"))
		return usage();
	i++;
	if (i >= argc)
		return usage();
	snprintf(id, sizeof(id), "%d", (int)getpid());
	launch_addr(addr, sizeof(addr), id);
	while (!listening(addr)) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		if (waited >= deadline) {
			fprintf(stderr,
				"daemon-launch: nobody waits at %s for "
				"%s: not started\n",
				addr, argv[i]);
			return 1;
		}
		nanosleep(&ts, NULL);
		waited += 5;
	}
	launch_exec(ppid, addr, log, argv + i);
	return 127;
}

static int cmd_wait(int argc, char **argv)
{
	char addr[LAUNCH_ADDR_MAX];
	int fd, r, deadline = launch_deadline_ms();
	pid_t pid;

	if (argc < 2 || argc > 3 || atoi(argv[1]) <= 0)
		return usage();
	pid = (pid_t)atoi(argv[1]);
	launch_addr(addr, sizeof(addr), argv[1]);
	fd = launch_bind(addr);
	if (fd < 0) {
		fprintf(stderr, "daemon-launch: %s: cannot bind %s: %s\n",
			argv[0], addr, strerror(-fd));
		return 1;
	}
	r = launch_wait(fd, pid, deadline);
	close(fd);
	if (r == 0)
		return 0;
	launch_fail(argv[0], pid, r, deadline, argc == 3 ? argv[2] : NULL);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "exec"))
		return cmd_exec(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "wait"))
		return cmd_wait(argc - 2, argv + 2);
	return usage();
}
