/* loophv_fixture.c - see loophv_fixture.h. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
	const char *argv[] = { bin, "--foreground", "--run-dir", dir,
			       "--log-level", lvl ? lvl : "warning", extra_arg,
			       NULL };

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
