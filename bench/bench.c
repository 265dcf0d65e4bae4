/*
 * bench.c - shared helpers of the benchmarks (see bench.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define BENCH_HVD_LOG  "loophvd.log"
#define BENCH_HVD_SOCK "loophvd.sock"

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ../loophv/loophvd next to our own executable. */
static int bench_default_hvd(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(out, len, "%s/../loophv/loophvd", self) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Copy loophvd's log to stderr (after a failed start). */
static void bench_dump_log(const struct bench_hvd *d)
{
	char path[4200], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->run_dir, BENCH_HVD_LOG);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	fprintf(stderr, "---- %s ----\n", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	fprintf(stderr, "---- end of log ----\n");
	close(fd);
}

int bench_hvd_start(struct bench_hvd *d, const char *path, const char *run_dir)
{
	char exe[PATH_MAX], sock[4200], logp[4200];
	struct stat st;
	double deadline;
	int status, fd, err;
	pid_t pid;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	if (!path)
		path = getenv("LOOPHVD");
	if (!path) {
		err = bench_default_hvd(exe, sizeof(exe));
		if (err < 0) {
			fprintf(stderr, "bench: cannot locate loophvd: %s\n",
				strerror(-err));
			return err;
		}
		path = exe;
	}
	if (access(path, X_OK) < 0) {
		err = -errno;
		fprintf(stderr,
			"bench: loophvd not executable at %s: %s "
			"(build it, or set LOOPHVD / --loophvd)\n",
			path, strerror(errno));
		return err;
	}
	if (run_dir) {
		if (snprintf(d->run_dir, sizeof(d->run_dir), "%s", run_dir) >=
		    (int)sizeof(d->run_dir))
			return -ENAMETOOLONG;
		if (mkdir(d->run_dir, 0700) < 0 && errno != EEXIST) {
			err = -errno;
			fprintf(stderr, "bench: mkdir %s: %s\n", d->run_dir,
				strerror(errno));
			return err;
		}
	} else {
		snprintf(d->run_dir, sizeof(d->run_dir),
			 "%s/splitdrv-bench.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(d->run_dir)) {
			err = -errno;
			fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
			return err;
		}
		d->own_dir = 1;
	}
	snprintf(sock, sizeof(sock), "%s/%s", d->run_dir, BENCH_HVD_SOCK);
	snprintf(logp, sizeof(logp), "%s/%s", d->run_dir, BENCH_HVD_LOG);
	if (lstat(sock, &st) == 0) {
		fprintf(stderr,
			"bench: %s already exists: another loophvd uses %s?\n",
			sock, d->run_dir);
		return -EEXIST;
	}

	pid = fork();
	if (pid < 0) {
		err = -errno;
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		bench_hvd_stop(d);
		return err;
	}
	if (pid == 0) {
		/* loophvd must not outlive a crashed benchmark. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(path, "loophvd", "--foreground", "--run-dir", d->run_dir,
		      (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	d->pid = pid;

	deadline = bench_now() + 10.0;
	for (;;) {
		if (lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = -1;
			fprintf(stderr,
				"bench: loophvd (%s) exited (%s %d) before "
				"creating %s\n",
				path, WIFEXITED(status) ? "status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status)
						  : WTERMSIG(status),
				sock);
			bench_dump_log(d);
			bench_hvd_stop(d);
			return -ECHILD;
		}
		if (bench_now() > deadline) {
			fprintf(stderr, "bench: no %s after 10 s\n", sock);
			bench_dump_log(d);
			bench_hvd_stop(d);
			return -ETIMEDOUT;
		}
		bench_sleep_ms(10);
	}
}

/* Remove the files directly in a directory we made, then the directory. */
static void bench_rm_dir(const char *dir)
{
	char p[4400];
	struct dirent *de;
	DIR *dp;

	dp = opendir(dir);
	if (dp) {
		while ((de = readdir(dp)) != NULL) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(dp);
	}
	rmdir(dir);
}

void bench_hvd_stop(struct bench_hvd *d)
{
	double deadline;
	int status;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		deadline = bench_now() + 5.0;
		while (waitpid(d->pid, &status, WNOHANG) == 0) {
			if (bench_now() > deadline) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, &status, 0);
				break;
			}
			bench_sleep_ms(10);
		}
		d->pid = -1;
	}
	if (d->own_dir && d->run_dir[0]) {
		bench_rm_dir(d->run_dir);
		d->own_dir = 0;
	}
}

static void bench_hv_error(const char *what, const struct bench_hvd *d, int err)
{
	fprintf(stderr, "bench: %s (loop provider, run dir %s) failed: %s\n",
		what, d->run_dir, strerror(err));
	if (err == ENOENT || err == ECONNREFUSED)
		fprintf(stderr,
			"bench: the loop provider is not available: loophvd "
			"is not answering or lib/hv-loop.c is still the "
			"placeholder\n");
	else if (err == EACCES || err == EPERM)
		fprintf(stderr,
			"bench: loophvd refused us as dom0 (run as root)\n");
}

struct hv *bench_open_dom0(const struct bench_hvd *d)
{
	struct hv_open_opts o = { .provider = HV_PROVIDER_LOOP,
				  .run_dir = d->run_dir };
	struct hv *hv;
	double deadline = bench_now() + 2.0;

	/* The socket file appears at bind(), a moment before listen(). */
	while (!(hv = hv_open(&o)) && errno == ECONNREFUSED &&
	       bench_now() < deadline)
		bench_sleep_ms(10);
	if (!hv)
		bench_hv_error("hv_open", d, errno);
	return hv;
}

struct hv *bench_create_guest(const struct bench_hvd *d, const char *name)
{
	return bench_create_guest_sized(d, name, 16ULL << 20, 4);
}

struct hv *bench_create_guest_sized(const struct bench_hvd *d, const char *name,
				    uint64_t mem_bytes, uint32_t grant_frames)
{
	struct hv_open_opts o = { .provider = HV_PROVIDER_LOOP,
				  .run_dir = d->run_dir };
	struct hv_domain_create cfg = { .mem_bytes = mem_bytes,
					.grant_frames = grant_frames,
					.max_vcpus = 1,
					.name = name };
	struct hv *hv;
	double deadline = bench_now() + 2.0;

	while (!(hv = hv_domain_create(&o, &cfg)) && errno == ECONNREFUSED &&
	       bench_now() < deadline)
		bench_sleep_ms(10);
	if (!hv)
		bench_hv_error("hv_domain_create", d, errno);
	return hv;
}

int bench_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bench_recv(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bench_evtchn_wait(struct hv_evtchn *h, evtchn_port_t port, int timeout_ms)
{
	struct pollfd pfd = { .fd = hv_evtchn_fd(h), .events = POLLIN };
	int got = 0, p, rc;

	for (;;) {
		rc = poll(&pfd, 1, timeout_ms);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (rc == 0)
			return -ETIMEDOUT;
		while ((p = hv_evtchn_pending(h)) >= 0) {
			rc = hv_evtchn_unmask(h, (evtchn_port_t)p);
			if (rc < 0)
				return rc;
			if ((evtchn_port_t)p == port)
				got = 1;
		}
		if (p != -EAGAIN)
			return p;
		if (got)
			return 0;
	}
}

int bench_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		v *= 1000;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v *= 1000000;
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}
