/* loophv_fixture.c - see loophv_fixture.h. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loophv-proto.h"
#include "../lib/launch.h"
#include "loophv_fixture.h"

char lhf_run_dir[256];
pid_t lhf_pid = -1;
static struct hv_open_opts opts;

const struct hv_open_opts *lhf_opts(void)
{
	opts.provider = HV_PROVIDER_LOOP;
	opts.run_dir = lhf_run_dir;
	return &opts;
}

pid_t lhf_spawn(const char *dir, const char *extra_arg)
{
	const char *top = getenv("top_builddir");
	const char *lvl = getenv("LOOPHVD_LOG");
	char bin[512];
	const char *argv[] = { bin,           "--foreground",
			       "--run-dir",   dir,
			       "--log-level", lvl ? lvl : "warning",
			       extra_arg,     NULL };

	snprintf(bin, sizeof(bin), "%s/loophv/loophvd", top ? top : ".");
	return launch_daemon("loophvd", NULL, (char *const *)argv);
}

void lhf_start(void)
{
	char uid[32];

	snprintf(lhf_run_dir, sizeof(lhf_run_dir), "/tmp/splitdrv-test.XXXXXX");
	if (!mkdtemp(lhf_run_dir)) {
		perror("mkdtemp");
		exit(99);
	}
	/* Reachable by the unprivileged test clients (uid 65534). */
	chmod(lhf_run_dir, 0755);
	snprintf(uid, sizeof(uid), "--priv-uid=%u", (unsigned)getuid());
	lhf_pid = lhf_spawn(lhf_run_dir, uid);
}

void lhf_stop(void)
{
	char cmd[300];

	if (lhf_pid > 0) {
		kill(lhf_pid, SIGTERM);
		waitpid(lhf_pid, NULL, 0);
		lhf_pid = -1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", lhf_run_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", lhf_run_dir);
}

struct hv *lhf_guest(unsigned int mem_mib)
{
	struct hv_domain_create cfg = { .mem_bytes = (uint64_t)mem_mib << 20,
					.name = "test-guest" };
	struct hv *hv = hv_domain_create(lhf_opts(), &cfg);

	ck_assert_msg(hv != NULL, "hv_domain_create: %s", strerror(errno));
	return hv;
}

struct hv *lhf_dom0(void)
{
	struct hv *hv = hv_open(lhf_opts());

	ck_assert_msg(hv != NULL, "hv_open as dom0: %s", strerror(errno));
	return hv;
}

/* ---- loophvd's protocol, raw ---- */

int lhf_raw_connect(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, LH_SOCK_NAME);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		      "connect %s: %s", sa.sun_path, strerror(errno));
	return fd;
}

int lhf_raw_send(int fd, const void *buf, size_t len, struct lh_rep *rep,
		 int *fds, int *nfds, int maxfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * LH_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct lh_rep local;
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	if (!rep)
		rep = &local;
	iov = (struct iovec){ .iov_base = rep, .iov_len = sizeof(*rep) };
	ck_assert_int_eq(send(fd, buf, len, 0), (ssize_t)len);
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return LHF_RAW_EOF;
	ck_assert_int_ge(n, (ssize_t)LH_REP_HDR_SIZE);
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(f));
			if (fds && *nfds < maxfds)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	return rep->ret;
}

int lhf_raw_rpc(int fd, struct lh_req *req, struct lh_rep *rep, int *fds,
		int *nfds, int maxfds)
{
	req->seq = 1;
	return lhf_raw_send(fd, req, sizeof(*req), rep, fds, nfds, maxfds);
}

int lhf_raw_op(int fd, uint32_t op, struct lh_req *req)
{
	struct lh_req local;

	if (!req) {
		memset(&local, 0, sizeof(local));
		req = &local;
	}
	req->op = op;
	return lhf_raw_rpc(fd, req, NULL, NULL, NULL, 0);
}
