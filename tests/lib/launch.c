/* launch.c - see launch.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"

int launch_deadline_ms(void)
{
	const char *s = getenv("SPLITDRV_TEST_DEADLINE");
	long v = s ? strtol(s, NULL, 10) : 0;

	if (v <= 0 || v > 3600)
		v = 60;
	return (int)v * 1000;
}

void launch_addr(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, "@splitdrv-launch-%s", id);
}

/* sun_of - the sockaddr of an abstract address "@name"; its length. */
static socklen_t sun_of(const char *addr, struct sockaddr_un *sun)
{
	size_t n = strlen(addr);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n < 2 || addr[0] != '@' || n > sizeof(sun->sun_path))
		return 0;
	/* as lib/daemon.c and sd_notify address it: a leading NUL, no
	 * trailing one */
	memcpy(sun->sun_path + 1, addr + 1, n - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

int launch_bind(const char *addr)
{
	struct sockaddr_un sun;
	socklen_t alen = sun_of(addr, &sun);
	int fd;

	if (!alen)
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, alen) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int launch_exec(pid_t ppid, const char *addr, const char *log,
		char *const argv[])
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
		perror("launch: PR_SET_PDEATHSIG");
		return -errno;
	}
	if (getppid() != ppid) {
		/* the parent died before the prctl: nobody to serve */
		fprintf(stderr, "launch: the parent of %s is gone\n", argv[0]);
		return -ESRCH;
	}
	if (setenv("NOTIFY_SOCKET", addr, 1) < 0)
		return -errno;
	if (log) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0644);

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
		    dup2(fd, STDERR_FILENO) < 0) {
			fprintf(stderr, "launch: %s: %s\n", log,
				strerror(errno));
			return -EIO;
		}
		close(fd);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "launch: cannot run %s: %s\n", argv[0], strerror(errno));
	return -errno;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* got_ready - read what is queued on fd: 1 if a datagram says READY=1. */
static int got_ready(int fd)
{
	char buf[4097];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0) {
		buf[n] = '\0';
		for (char *l = buf; l; l = strchr(l, '\n')) {
			if (*l == '\n')
				l++;
			if (!strncmp(l, "READY=1", 7) &&
			    (l[7] == '\0' || l[7] == '\n'))
				return 1;
		}
	}
	return 0;
}

int launch_wait(int fd, pid_t pid, int deadline_ms)
{
	int64_t end = now_ms() + deadline_ms;
	int pfd = (int)pidfd_open(pid, 0), r = -ETIMEDOUT;

	if (pfd < 0)
		return got_ready(fd) ? 0 : -ESRCH;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = pfd, .events = POLLIN } };
		int64_t left = end - now_ms();

		if (got_ready(fd)) {
			r = 0;
			break;
		}
		if (left <= 0)
			break;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (p[1].revents) {
			/* it may have said READY=1 just before it ended */
			r = got_ready(fd) ? 0 : -ESRCH;
			break;
		}
	}
	close(pfd);
	return r;
}

void launch_fail(const char *name, pid_t pid, int r, int deadline_ms,
		 const char *log)
{
	char what[128];

	if (r == -ETIMEDOUT)
		snprintf(what, sizeof(what),
			 "not ready after %d s (no READY=1 "
			 "on its NOTIFY_SOCKET; SPLITDRV_TEST_DEADLINE sets "
			 "the limit)",
			 deadline_ms / 1000);
	else if (r == -ESRCH)
		snprintf(what, sizeof(what), "exited before it was ready");
	else
		snprintf(what, sizeof(what), "cannot be waited for: %s",
			 strerror(-r));
	fprintf(stderr, "launch: %s (pid %d) %s; its log: %s\n", name, (int)pid,
		what, log ? log : "the output above");
}

pid_t launch_daemon(const char *name, const char *log, char *const argv[])
{
	static unsigned int seq;
	char id[32], addr[LAUNCH_ADDR_MAX];
	int fd, r, deadline = launch_deadline_ms(), status;
	pid_t me = getpid(), pid;

	snprintf(id, sizeof(id), "%d-%u", (int)me, seq++);
	launch_addr(addr, sizeof(addr), id);
	fd = launch_bind(addr);
	if (fd < 0) {
		fprintf(stderr, "launch: %s: cannot bind %s: %s\n", name, addr,
			strerror(-fd));
		exit(99);
	}
	pid = fork();
	if (pid < 0) {
		perror("launch: fork");
		exit(99);
	}
	if (pid == 0) {
		launch_exec(me, addr, log, argv);
		_exit(127);
	}
	r = launch_wait(fd, pid, deadline);
	close(fd);
	if (r == 0)
		return pid;
	launch_fail(name, pid, r, deadline, log);
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) == pid && r == -ESRCH) {
		if (WIFEXITED(status))
			fprintf(stderr, "launch: %s exited with status %d\n",
				name, WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			fprintf(stderr, "launch: %s was killed by signal %d\n",
				name, WTERMSIG(status));
	}
	exit(99);
}
