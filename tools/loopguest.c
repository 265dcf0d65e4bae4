/*
 * loopguest - a loopback guest domain: a process whose RAM is a memfd,
 * with a xenstore ring as a guest kernel's xenbus has (frontends land here
 * as they are written).
 *
 *   loopguest [--run-dir DIR] [--name NAME] [--mem MIB] [--hold]
 *             [-x "OP ARGS"]...
 *
 * It prints "domid N" first, then runs each -x operation over its ring in
 * order (they wait until a toolstack has introduced the domain), printing
 * one line per result, and exits -- unless --hold, which keeps the domain
 * alive until SIGTERM/SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv.h"
#include "xs-guest.h"

#define STORE_FRAME 1 /* the guest's xenstore page, a reserved frame */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: loopguest [OPTIONS]\n"
"\n"
"Run a loopback guest domain (on loophvd) with a xenstore ring, and run\n"
"xenstore operations over that ring as the guest's kernel would.\n"
"\n"
"Options:\n"
"      --run-dir=DIR    loophvd's run directory (default $SPLITDRV_RUN_DIR,\n"
"                       else /run/splitdrv)\n"
"      --name=NAME      the domain's name (default loopguest)\n"
"      --mem=MIB        RAM in MiB (default 16)\n"
"  -x, --xs=\"OP ARGS\"   a xenstore operation, repeatable, run in order:\n"
"                         read PATH | write PATH VALUE | rm PATH |\n"
"                         mkdir PATH | ls PATH | watch PATH | domain-path\n"
"                       (PATH may be relative to the domain's home)\n"
"      --timeout=SEC    how long one operation may wait (default 30; the\n"
"                       first waits for the toolstack's XS_INTRODUCE)\n"
"      --hold           keep the domain alive after the operations, until\n"
"                       SIGTERM or SIGINT\n"
"  -h, --help           this help\n"
"\n"
"Output: \"domid N\" and \"store-port P\" first, then one line per operation:\n"
"\"ok OP: RESULT\" or \"error OP: ERRNO-NAME\". Exit status 1 if any failed.\n");
}

static int run_op(struct xsg *x, domid_t domid, char *spec)
{
	char *save = NULL, *op = strtok_r(spec, " ", &save);
	char *a = strtok_r(NULL, " ", &save);
	char *b = save && *save ? save : NULL;
	char *out = NULL, *p, *t;
	unsigned int n;
	int r;

	if (!op)
		return 0;
	if (!strcmp(op, "read") && a) {
		r = xsg_read(x, 0, a, &out);
	} else if (!strcmp(op, "write") && a && b) {
		r = xsg_write(x, 0, a, b);
	} else if (!strcmp(op, "rm") && a) {
		r = xsg_rm(x, 0, a);
	} else if (!strcmp(op, "mkdir") && a) {
		r = xsg_mkdir(x, 0, a);
	} else if (!strcmp(op, "ls") && a) {
		r = xsg_directory(x, 0, a, &out, &n);
		if (!r) /* NUL-separated names to spaces */
			for (char *q = out; n; q++)
				if (!*q && --n)
					*q = ' ';
	} else if (!strcmp(op, "watch") && a) {
		r = xsg_watch(x, a, "loopguest");
		if (!r)
			r = xsg_wait_watch(x, &p, &t); /* fires on register */
		if (!r) {
			free(p);
			free(t);
			r = xsg_wait_watch(x, &p, &t);
		}
		if (!r) {
			out = p;
			free(t);
		}
	} else if (!strcmp(op, "domain-path")) {
		r = xsg_get_domain_path(x, domid, &out);
	} else {
		printf("error %s: bad operation (see --help)\n", op);
		return -1;
	}
	if (r) {
		printf("error %s%s%s: %s\n", op, a ? " " : "", a ? a : "",
		       strerror(-r));
	} else {
		printf("ok %s%s%s%s%s\n", op, a ? " " : "", a ? a : "",
		       out ? ": " : "", out ? out : "");
	}
	fflush(stdout);
	free(out);
	return r ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run-dir", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "mem", required_argument, NULL, 'm' },
		{ "xs", required_argument, NULL, 'x' },
		{ "timeout", required_argument, NULL, 't' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hv_open_opts o = { .provider = HV_PROVIDER_LOOP };
	struct hv_domain_create cfg = { .mem_bytes = 16 << 20, .name = "loopguest" };
	char **ops = calloc((size_t)argc + 1, sizeof(char *));
	int nops = 0, hold = 0, timeout = 30, opt, failed = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	struct hv *hv;
	struct xsg *x;

	if (!ops)
		return 1;
	while ((opt = getopt_long(argc, argv, "x:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			o.run_dir = optarg;
			break;
		case 'n':
			cfg.name = optarg;
			break;
		case 'm':
			cfg.mem_bytes = strtoull(optarg, NULL, 10) << 20;
			break;
		case 'x':
			ops[nops++] = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			if (timeout <= 0) {
				fprintf(stderr, "loopguest: bad --timeout\n");
				return 2;
			}
			break;
		case 'H':
			hold = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loopguest: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	hv = hv_domain_create(&o, &cfg);
	if (!hv) {
		fprintf(stderr, "loopguest: cannot become a domain: %s\n",
			strerror(errno));
		return 1;
	}
	x = xsg_open(hv, STORE_FRAME, 0);
	if (!x) {
		fprintf(stderr, "loopguest: xenstore ring: %s\n", strerror(errno));
		return 1;
	}
	xsg_set_timeout(x, timeout * 1000);
	printf("domid %u\nstore-port %u\n", hv_domid(hv), xsg_port(x));
	fflush(stdout);
	for (int i = 0; i < nops && !stop; i++)
		if (run_op(x, hv_domid(hv), ops[i]) < 0)
			failed = 1;
	while (hold && !stop)
		pause();
	xsg_close(x);
	hv_close(hv); /* the domain dies */
	free(ops);
	return failed;
}
