/* xsd_fixture.c - see xsd_fixture.h. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/launch.h"
#include "xsd_fixture.h"

char xsdf_run_dir[64];
char xsdf_sock[128];
pid_t xsdf_pid = -1;

void xsdf_start_args(const char *const *extra)
{
	const char *top = getenv("top_builddir");
	const char *argv[32];
	char bin[512];
	int n = 0;

	if (!xsdf_run_dir[0]) {
		snprintf(xsdf_run_dir, sizeof(xsdf_run_dir),
			 "/tmp/splitdrv-xsd.XXXXXX");
		if (!mkdtemp(xsdf_run_dir))
			exit(99);
		snprintf(xsdf_sock, sizeof(xsdf_sock), "%s/socket",
			 xsdf_run_dir);
	}
	snprintf(bin, sizeof(bin), "%s/xenstored/xenstored", top ? top : ".");
	argv[n++] = bin;
	argv[n++] = "--foreground";
	argv[n++] = "--run-dir";
	argv[n++] = xsdf_run_dir;
	argv[n++] = "--socket";
	argv[n++] = xsdf_sock;
	argv[n++] = "--log-level";
	argv[n++] = getenv("XENSTORED_LOG") ? getenv("XENSTORED_LOG") : "error";
	for (int i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(xsdf_sock);
	xsdf_pid = launch_daemon("xenstored", NULL, (char *const *)argv);
	setenv("XENSTORED_PATH", xsdf_sock, 1);
}

void xsdf_start(void)
{
	xsdf_start_args(NULL);
}

static void end(int sig)
{
	if (xsdf_pid > 0) {
		kill(xsdf_pid, sig);
		waitpid(xsdf_pid, NULL, 0);
		xsdf_pid = -1;
	}
}

void xsdf_stop(void)
{
	end(SIGTERM);
}
void xsdf_crash(void)
{
	end(SIGKILL);
}

void xsdf_cleanup(void)
{
	char cmd[128];

	xsdf_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", xsdf_run_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", xsdf_run_dir);
	xsdf_run_dir[0] = '\0';
}
