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
 *   release DOMID                 XS_RELEASE (if still needed), remove
 *                                 /local/domain/DOMID and its backend dirs
 *   monitor [--once]              the toolstack's part when a domain dies
 *                                 (splitctl-monitor.c)
 *   status DAEMON                 JSON status of a daemon's control socket
 *   stats DAEMON                  JSON stats (DAEMON: loophvd, xenstored, ...)
 *
 * Global options: --run-dir DIR, --hv loop|xen|auto, -h/--help, -V.
 * xenstore is reached at $XENSTORED_PATH (or libxenstore's default).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <xenstore.h>
#include <xen/hvm/params.h>

#include "ctl.h"
#include "daemon.h"
#include "hv.h"
#include "tools/splitctl.h"

static struct hv_open_opts hvo = { .provider = HV_PROVIDER_AUTO };
static const char *run_dir;
static int wait_s = 20;

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
"  release DOMID           XS_RELEASE the domain (if xenstored has not yet)\n"
"                          and remove its nodes and its backend directories\n"
"  monitor [--once]        stay in the foreground and, for every domain that\n"
"                          dies or shuts down, do what xl's monitor does:\n"
"                          close and remove its devices, its xenstore nodes,\n"
"                          XS_RELEASE (see splitctl monitor --help)\n"
"  block-attach DOMID TARGET VDEV [mode=r|w] [backendtype=TYPE]\n"
"                          attach a disk as xl does: TARGET is what blkback\n"
"                          serves (/path, file:, phy:, nbd://, nbd+unix://),\n"
"                          VDEV the guest's name (xvda, hda, sda, or a\n"
"                          number); waits until the backend is Connected\n"
"                          (--wait SEC, default 20; 0: do not wait)\n"
"  block-detach DOMID VDEV  close the device as libxl does and remove it\n"
"  block-list DOMID         the domain's disks: backend state, target and\n"
"                          blkback's per-device stats\n"
"  status DAEMON           the daemon's JSON status (loophvd, xenstored,\n"
"                          blkback, ...) from RUN_DIR/DAEMON.ctl\n"
"  stats DAEMON            the daemon's JSON statistics\n"
"\n"
"Options:\n"
"      --run-dir=DIR       run directory of the daemons (default\n"
"                          $SPLITDRV_RUN_DIR, else /run/splitdrv)\n"
"      --hv=loop|xen|auto  hypervisor provider (default auto)\n"
"      --wait=SEC          block-attach/detach: how long to wait\n"
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

int splitctl_release(struct xs_handle *xs, domid_t domid)
{
	char path[64];
	int rc = 0;

	/* xenstored releases a domain by itself when it dies: ENOENT then
	 * only means there is nothing left to release. */
	if (!xs_release_domain(xs, domid) && errno != ENOENT) {
		fprintf(stderr, "splitctl: XS_RELEASE of domain %u: %s\n", domid,
			strerror(errno));
		rc = -1;
	}
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(xs, XBT_NULL, path);
	/* and what the toolstack created for it in dom0's backend dirs */
	{
		unsigned int n = 0;
		char **types = xs_directory(xs, XBT_NULL, "/local/domain/0/backend",
					    &n);

		for (unsigned int i = 0; types && i < n; i++) {
			snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u",
				 types[i], domid);
			xs_rm(xs, XBT_NULL, path);
		}
		free(types);
	}
	return rc;
}

static int cmd_release(domid_t domid)
{
	struct xs_handle *xs = xs_open(0);
	int rc;

	if (!xs) {
		fprintf(stderr, "splitctl: cannot reach xenstored: %s\n",
			strerror(errno));
		return 1;
	}
	rc = splitctl_release(xs, domid) ? 1 : 0;
	xs_close(xs);
	return rc;
}


/*
 * vdev_to_devid - xl's virtual device names (docs/misc/vbd-interface):
 * xvdX -> (202 << 8) | (disk << 4) | part for disks 0..15, extended
 * (1 << 28) | (disk << 8) | part beyond; hdX -> 3 / 22 majors; sdX ->
 * (8 << 8) | (disk << 4) | part; or a plain number.
 */
static int vdev_to_devid(const char *v, unsigned long *out)
{
	const char *p;
	unsigned long disk = 0, part = 0;
	char *end;

	if (v[0] >= '0' && v[0] <= '9') {
		*out = strtoul(v, &end, 10);
		return *end ? -1 : 0;
	}
	if (!strncmp(v, "xvd", 3) || !strncmp(v, "hd", 2) || !strncmp(v, "sd", 2)) {
		p = v + (v[0] == 'x' ? 3 : 2);
		if (*p < 'a' || *p > 'z')
			return -1;
		/* letters count bijectively: a=0 .. z=25, aa=26, ab=27 */
		while (*p >= 'a' && *p <= 'z' && disk < 100000)
			disk = disk * 26 + (unsigned long)(*p++ - 'a') + 1;
		disk--;
		if (*p) {
			part = strtoul(p, &end, 10);
			if (*end || part > 15)
				return -1;
		}
		if (v[0] == 'x')
			*out = disk < 16 ? (202UL << 8) | (disk << 4) | part
					 : (1UL << 28) | (disk << 8) | part;
		else if (v[0] == 'h' && disk < 4)
			*out = ((disk < 2 ? 3UL : 22UL) << 8) | ((disk % 2) << 6) | part;
		else if (v[0] == 's' && disk < 16)
			*out = (8UL << 8) | (disk << 4) | part;
		else
			return -1;
		return 0;
	}
	return -1;
}

static char *xread(struct xs_handle *xs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *xread(struct xs_handle *xs, const char *fmt, ...)
{
	char path[256];
	unsigned int len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(xs, XBT_NULL, path, &len);
}

/*
 * wait_state - until the backend's state is want (or, with at_least, any
 * of want..Connected: a fast frontend may take it past want before we
 * look), or an error key shows up.
 */
static int wait_state(struct xs_handle *xs, const char *be, int want,
		      int at_least, const char *what)
{
	for (int i = 0; i < wait_s * 10; i++) {
		char *st = xread(xs, "%s/state", be), *err;
		int s = st ? atoi(st) : -1;

		free(st);
		if (s == want || (at_least && s >= want && s <= 4)) {
			if (i)
				fprintf(stderr, "\n");
			return 0;
		}
		err = xread(xs, "%s/error", be);
		if (err && *err) {
			fprintf(stderr, "%ssplitctl: the backend reports: %s\n",
				i ? "\n" : "", err);
			free(err);
			return -1;
		}
		free(err);
		if (i % 10 == 0)
			fprintf(stderr, "\r%s: backend state %d (waiting for %d) %ds ",
				what, s, want, i / 10);
		usleep(100000);
	}
	fprintf(stderr, "\nsplitctl: timed out after %d s waiting for state %d "
			"(is blkback running?)\n", wait_s, want);
	return -1;
}

static int cmd_block_attach(domid_t domid, char **args, int nargs)
{
	struct xs_permissions guest_owns[2] = {
		{ .id = domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	struct xs_permissions dom0_owns[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	};
	const char *target = args[0], *mode = "w", *btype = "vbd";
	char fe[128], be[128], key[192], val[320], *home;
	unsigned long devid;
	struct xs_handle *xs;
	xs_transaction_t t;
	int ok = 1;

	if (vdev_to_devid(args[1], &devid)) {
		fprintf(stderr, "splitctl: '%s' is not a virtual device name "
				"(xvda, hda, sda, or a number)\n", args[1]);
		return 2;
	}
	for (int i = 2; i < nargs; i++) {
		if (!strcmp(args[i], "mode=r") || !strcmp(args[i], "mode=ro"))
			mode = "r";
		else if (!strcmp(args[i], "mode=w") || !strcmp(args[i], "mode=rw"))
			mode = "w";
		else if (!strncmp(args[i], "backendtype=", 12) && args[i][12] &&
			 !strchr(args[i] + 12, '/'))
			btype = args[i] + 12;
		else {
			fprintf(stderr, "splitctl: unknown option '%s'\n", args[i]);
			return 2;
		}
	}
	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr, "splitctl: cannot reach xenstored: %s\n",
			strerror(errno));
		return 1;
	}
	home = xread(xs, "/local/domain/%u/domid", domid);
	if (!home) {
		fprintf(stderr, "splitctl: domain %u is not in xenstore "
				"(introduce it first)\n", domid);
		xs_close(xs);
		return 1;
	}
	free(home);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%lu", domid, devid);
	snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%lu", btype, domid,
		 devid);
	for (int tries = 0;; tries++) {
		char *exists;

		t = xs_transaction_start(xs);
		exists = xs_read(xs, t, be, (unsigned int[]){ 0 });
		if (exists) {
			free(exists);
			xs_transaction_end(xs, t, true);
			fprintf(stderr, "splitctl: domain %u already has %s\n", domid,
				args[1]);
			xs_close(xs);
			return 1;
		}
#define W(dir, k, ...) do {                                                \
		snprintf(key, sizeof(key), "%s/%s", dir, k);               \
		snprintf(val, sizeof(val), __VA_ARGS__);                   \
		ok &= xs_write(xs, t, key, val, (unsigned)strlen(val));    \
	} while (0)
		ok = xs_mkdir(xs, t, fe) && xs_set_permissions(xs, t, fe, guest_owns, 2);
		W(fe, "backend", "%s", be);
		W(fe, "backend-id", "0");
		W(fe, "virtual-device", "%lu", devid);
		W(fe, "device-type", "disk");
		W(fe, "state", "1");
		ok &= xs_mkdir(xs, t, be) && xs_set_permissions(xs, t, be, dom0_owns, 2);
		W(be, "frontend", "%s", fe);
		W(be, "frontend-id", "%u", domid);
		W(be, "online", "1");
		W(be, "removable", "0");
		W(be, "bootable", "1");
		W(be, "dev", "%s", args[1]);
		W(be, "params", "%s", target);
		W(be, "mode", "%s", mode);
		W(be, "state", "1");
#undef W
		if (!ok) {
			xs_transaction_end(xs, t, true);
			fprintf(stderr, "splitctl: writing %s: %s\n", be, strerror(errno));
			xs_close(xs);
			return 1;
		}
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN || tries > 10) {
			fprintf(stderr, "splitctl: transaction: %s\n", strerror(errno));
			xs_close(xs);
			return 1;
		}
	}
	printf("attached %s (devid %lu) of domain %u: %s, mode %s\n", args[1], devid,
	       domid, target, mode);
	if (wait_s) {
		/* InitWait: blkback took it; Connected: the frontend too */
		if (wait_state(xs, be, 2, 1, "blkback") ||
		    wait_state(xs, be, 4, 0, "frontend")) {
			xs_close(xs);
			return 1;
		}
		printf("connected\n");
	}
	xs_close(xs);
	return 0;
}

static int cmd_block_detach(domid_t domid, const char *vdev)
{
	unsigned long devid;
	char be[128], fe[128], path[160];
	struct xs_handle *xs;
	char *bepath;
	int rc = 0;

	if (vdev_to_devid(vdev, &devid)) {
		fprintf(stderr, "splitctl: '%s' is not a virtual device name\n", vdev);
		return 2;
	}
	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr, "splitctl: cannot reach xenstored: %s\n",
			strerror(errno));
		return 1;
	}
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%lu", domid, devid);
	bepath = xread(xs, "%s/backend", fe);
	if (bepath && !strncmp(bepath, "/local/domain/", 14)) {
		snprintf(be, sizeof(be), "%s", bepath);
	} else {
		/* The guest (and its directory) may be gone already: the
		 * backend is where block-attach puts it. */
		snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/%lu",
			 domid, devid);
		free(bepath);
		bepath = xread(xs, "%s/frontend", be);
		if (!bepath) {
			fprintf(stderr, "splitctl: domain %u has no disk %s\n",
				domid, vdev);
			xs_close(xs);
			return 1;
		}
	}
	free(bepath);
	/* libxl's way: online=0, state=Closing, wait for Closed, remove */
	snprintf(path, sizeof(path), "%s/online", be);
	xs_write(xs, XBT_NULL, path, "0", 1);
	snprintf(path, sizeof(path), "%s/state", be);
	xs_write(xs, XBT_NULL, path, "5", 1);
	if (wait_s && wait_state(xs, be, 6, 0, "close")) {
		fprintf(stderr, "splitctl: removing the device anyway\n");
		rc = 1;
	}
	xs_rm(xs, XBT_NULL, be);
	xs_rm(xs, XBT_NULL, fe);
	if (!rc)
		printf("detached %s of domain %u\n", vdev, domid);
	xs_close(xs);
	return rc;
}

static int cmd_block_list(domid_t domid)
{
	struct xs_handle *xs = xs_open(0);
	char dir[64], **ids, ctlpath[512];
	unsigned int n = 0;
	json_t *st = NULL, *devs;

	if (!xs) {
		fprintf(stderr, "splitctl: cannot reach xenstored: %s\n",
			strerror(errno));
		return 1;
	}
	snprintf(ctlpath, sizeof(ctlpath), "%s/blkback.ctl",
		 run_dir ? run_dir : daemon_default_run_dir());
	st = ctl_request(ctlpath, "stats", NULL, 2000);
	devs = st ? json_object_get(json_object_get(st, "result"), "devices") : NULL;
	snprintf(dir, sizeof(dir), "/local/domain/%u/device/vbd", domid);
	ids = xs_directory(xs, XBT_NULL, dir, &n);
	printf("%-8s %-6s %-5s %-40s %s\n", "DEVID", "STATE", "MODE", "TARGET",
	       "STATS");
	for (unsigned int i = 0; ids && i < n; i++) {
		char *be = xread(xs, "%s/%s/backend", dir, ids[i]);
		char *state = be ? xread(xs, "%s/state", be) : NULL;
		char *params = be ? xread(xs, "%s/params", be) : NULL;
		char *mode = be ? xread(xs, "%s/mode", be) : NULL;
		char name[64];
		json_t *mine = NULL, *d;
		size_t k;

		snprintf(name, sizeof(name), "vbd/%u/%s", domid, ids[i]);
		json_array_foreach(devs, k, d)
			if (json_is_string(json_object_get(d, "device")) &&
			    !strcmp(json_string_value(json_object_get(d, "device")), name))
				mine = json_object_get(d, "stats");
		printf("%-8s %-6s %-5s %-40s ", ids[i], state ? state : "-",
		       mode ? mode : "-", params ? params : "-");
		if (mine) {
			char *txt = json_dumps(mine, JSON_COMPACT | JSON_SORT_KEYS);

			printf("%s\n", txt ? txt : "");
			free(txt);
		} else {
			printf("%s\n", st ? "(not connected)" : "(blkback not reachable)");
		}
		free(be);
		free(state);
		free(params);
		free(mode);
	}
	free(ids);
	json_decref(st);
	xs_close(xs);
	return 0;
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
		{ "wait", required_argument, NULL, 'w' },
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
		case 'w':
			wait_s = atoi(optarg);
			if (wait_s < 0 || wait_s > 3600) {
				fprintf(stderr, "splitctl: --wait: 0..3600 seconds\n");
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
	if (!strcmp(cmd, "monitor")) {
		hvo.run_dir = run_dir;
		return splitctl_monitor(argc + 1, argv - 1, &hvo);
	}
	if (!strcmp(cmd, "block-attach") && argc >= 3 && argc <= 5) {
		if (parse_domid(argv[0], &domid))
			return 2;
		return cmd_block_attach(domid, argv + 1, argc - 1);
	}
	if (!strcmp(cmd, "block-detach") && argc == 2) {
		if (parse_domid(argv[0], &domid))
			return 2;
		return cmd_block_detach(domid, argv[1]);
	}
	if (!strcmp(cmd, "block-list") && argc == 1) {
		if (parse_domid(argv[0], &domid))
			return 2;
		return cmd_block_list(domid);
	}
	if ((!strcmp(cmd, "status") || !strcmp(cmd, "stats")) && argc == 1)
		return cmd_ctl(argv[0], cmd);
	fprintf(stderr, "splitctl: unknown command or wrong arguments: %s "
			"(see splitctl --help)\n", cmd);
	return 2;
}
