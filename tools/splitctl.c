/*
 * splitctl - the splitdrv admin tool.
 *
 *   splitctl [global options] COMMAND [ARGS]
 *
 * Commands:
 *   domains                       list domains (id, name, memory, state)
 *   introduce DOMID [NAME]        what a toolstack does for a new domain:
 *                                 create /local/domain/DOMID (owned by it,
 *                                 readable by dom0), write name and domid,
 *                                 then XS_INTRODUCE with the domain's
 *                                 HVM_PARAM_STORE_PFN / STORE_EVTCHN
 *   release DOMID                 XS_RELEASE and remove /local/domain/DOMID
 *   status DAEMON                 JSON status of a daemon's control socket
 *   stats DAEMON                  JSON stats (DAEMON: loophvd, xenstored, ...)
 *
 * Global options: --run-dir DIR, --hv loop|xen|auto, -h/--help, -V.
 * xenstore is reached at $XENSTORED_PATH (or libxenstore's default).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <xenstore.h>
#include <xen/hvm/params.h>

#include "ctl.h"
#include "daemon.h"
#include "hv.h"

static struct hv_open_opts hvo = { .provider = HV_PROVIDER_AUTO };
static const char *run_dir;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: splitctl [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Administer splitdrv: domains, xenstore introduction, daemon status.\n"
"\n"
"Commands:\n"
"  domains                 list domains: id, name, memory, state\n"
"  introduce DOMID [NAME]  create /local/domain/DOMID as a toolstack does\n"
"                          (owned by the domain, dom0 may read), then\n"
"                          XS_INTRODUCE it with its store page and port\n"
"                          (HVM_PARAM_STORE_PFN / STORE_EVTCHN)\n"
"  release DOMID           XS_RELEASE the domain and remove its nodes\n"
"  status DAEMON           the daemon's JSON status (loophvd, xenstored,\n"
"                          blkback, ...) from RUN_DIR/DAEMON.ctl\n"
"  stats DAEMON            the daemon's JSON statistics\n"
"\n"
"Options:\n"
"      --run-dir=DIR       run directory of the daemons (default\n"
"                          $SPLITDRV_RUN_DIR, else /run/splitdrv)\n"
"      --hv=loop|xen|auto  hypervisor provider (default auto)\n"
"  -h, --help              this help\n"
"  -V, --version           version\n"
"\n"
"Environment: XENSTORED_PATH, the xenstored socket for libxenstore.\n"
"Exit status: 0 on success, 1 on failure (with a message), 2 on bad usage.\n");
}

static int parse_domid(const char *s, domid_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v >= DOMID_FIRST_RESERVED) {
		fprintf(stderr, "splitctl: '%s' is not a guest domain id\n", s);
		return -1;
	}
	*out = (domid_t)v;
	return 0;
}

static struct hv *open_hv(void)
{
	struct hv *hv;

	hvo.run_dir = run_dir;
	hv = hv_open(&hvo);
	if (!hv)
		fprintf(stderr, "splitctl: cannot reach the hypervisor (%s): %s\n",
			hv_provider_name(hvo.provider), strerror(errno));
	return hv;
}

static int cmd_domains(void)
{
	struct hv *hv = open_hv();
	struct hv_domains *d;
	struct hv_domain_info info[256];
	int n;

	if (!hv)
		return 1;
	d = hv_domains_open(hv);
	if (!d) {
		fprintf(stderr, "splitctl: %s\n", strerror(errno));
		hv_close(hv);
		return 1;
	}
	n = hv_domains_list(d, info, 256);
	if (n < 0) {
		fprintf(stderr, "splitctl: listing domains: %s\n", strerror(-n));
		return 1;
	}
	printf("%-6s %-24s %10s  %s\n", "ID", "NAME", "MEM(MiB)", "STATE");
	for (int i = 0; i < n && i < 256; i++)
		printf("%-6u %-24s %10llu  %s%s%s\n", info[i].domid,
		       info[i].name[0] ? info[i].name : "-",
		       (unsigned long long)(info[i].mem_bytes >> 20),
		       info[i].dying ? "dying " : "",
		       info[i].paused ? "paused " : "",
		       info[i].shutdown ? "shutdown" : (info[i].dying ? "" : "running"));
	hv_domains_close(d);
	hv_close(hv);
	return 0;
}

static int cmd_introduce(domid_t domid, const char *name)
{
	struct hv *hv = open_hv();
	struct xs_handle *xs;
	struct xs_permissions perms[2] = {
		{ .id = domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	uint64_t pfn = 0, port = 0;
	char path[64], key[96], val[64];
	xs_transaction_t t;
	int r;

	if (!hv)
		return 1;
	r = hv_param_get(hv, domid, HVM_PARAM_STORE_PFN, &pfn);
	if (!r)
		r = hv_param_get(hv, domid, HVM_PARAM_STORE_EVTCHN, &port);
	hv_close(hv);
	if (r) {
		fprintf(stderr, "splitctl: domain %u: store page/port: %s\n", domid,
			strerror(-r));
		return 1;
	}
	if (port == 0) {
		fprintf(stderr, "splitctl: domain %u has no store event channel "
				"yet (HVM_PARAM_STORE_EVTCHN is 0)\n", domid);
		return 1;
	}
	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr, "splitctl: cannot reach xenstored: %s\n",
			strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	for (int tries = 0;; tries++) {
		t = xs_transaction_start(xs);
		if (!t)
			goto xs_fail;
		if (!xs_mkdir(xs, t, path) ||
		    !xs_set_permissions(xs, t, path, perms, 2))
			goto xs_fail;
		snprintf(key, sizeof(key), "%s/domid", path);
		snprintf(val, sizeof(val), "%u", domid);
		if (!xs_write(xs, t, key, val, (unsigned)strlen(val)))
			goto xs_fail;
		if (name) {
			snprintf(key, sizeof(key), "%s/name", path);
			if (!xs_write(xs, t, key, name, (unsigned)strlen(name)))
				goto xs_fail;
		}
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN || tries > 10)
			goto xs_fail;
	}
	if (!xs_introduce_domain(xs, domid, (unsigned long)pfn, (unsigned)port)) {
		fprintf(stderr, "splitctl: XS_INTRODUCE of domain %u: %s\n", domid,
			strerror(errno));
		xs_close(xs);
		return 1;
	}
	printf("introduced domain %u (store gfn %llu, port %llu)\n", domid,
	       (unsigned long long)pfn, (unsigned long long)port);
	xs_close(xs);
	return 0;
xs_fail:
	fprintf(stderr, "splitctl: writing %s: %s\n", path, strerror(errno));
	xs_close(xs);
	return 1;
}

static int cmd_release(domid_t domid)
{
	struct xs_handle *xs = xs_open(0);
	char path[64];
	int rc = 0;

	if (!xs) {
		fprintf(stderr, "splitctl: cannot reach xenstored: %s\n",
			strerror(errno));
		return 1;
	}
	if (!xs_release_domain(xs, domid)) {
		fprintf(stderr, "splitctl: XS_RELEASE of domain %u: %s\n", domid,
			strerror(errno));
		rc = 1;
	}
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(xs, XBT_NULL, path);
	xs_close(xs);
	return rc;
}

static int cmd_ctl(const char *daemon, const char *cmd)
{
	char path[512];
	json_t *rep;
	char *txt;

	if (strchr(daemon, '/')) {
		fprintf(stderr, "splitctl: bad daemon name '%s'\n", daemon);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s.ctl",
		 run_dir ? run_dir : daemon_default_run_dir(), daemon);
	rep = ctl_request(path, cmd, NULL, 5000);
	if (!rep) {
		fprintf(stderr, "splitctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	txt = json_dumps(rep, JSON_INDENT(2) | JSON_SORT_KEYS);
	puts(txt ? txt : "{}");
	free(txt);
	if (!json_is_true(json_object_get(rep, "ok"))) {
		json_decref(rep);
		return 1;
	}
	json_decref(rep);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run-dir", required_argument, NULL, 'd' },
		{ "hv", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	domid_t domid;
	int opt;

	while ((opt = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			run_dir = optarg;
			break;
		case 'H':
			if (hv_parse_provider(optarg, &hvo.provider) < 0) {
				fprintf(stderr, "splitctl: --hv: '%s' is not loop, "
						"xen or auto\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("splitctl (splitdrv) %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "domains") && argc == 0)
		return cmd_domains();
	if (!strcmp(cmd, "introduce") && (argc == 1 || argc == 2)) {
		if (parse_domid(argv[0], &domid))
			return 2;
		return cmd_introduce(domid, argc == 2 ? argv[1] : NULL);
	}
	if (!strcmp(cmd, "release") && argc == 1) {
		if (parse_domid(argv[0], &domid))
			return 2;
		return cmd_release(domid);
	}
	if ((!strcmp(cmd, "status") || !strcmp(cmd, "stats")) && argc == 1)
		return cmd_ctl(argv[0], cmd);
	fprintf(stderr, "splitctl: unknown command or wrong arguments: %s "
			"(see splitctl --help)\n", cmd);
	return 2;
}
