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
 *   block-attach/-detach/-list    a guest's disks, as xl does
 *   network-attach/-detach/-list  a guest's NICs, as xl does
 *                                 (splitctl-net.c)
 *   status DAEMON                 JSON status of a daemon's control socket
 *   stats DAEMON                  JSON stats (DAEMON: loophvd, xenstored, ...)
 *
 * Global options: --run-dir DIR, --hv loop|xen|auto, -h/--help, -V.
 * xenstore is reached at $XENSTORED_PATH (or libxenstore's default).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <xenstore.h>
#include <xen/hvm/params.h>

#include "blkback/common.h" /* blkbk_params_parse: blkback's own parser */
#include "ctl.h"
#include "daemon.h"
#include "hv.h"
#include "tools/splitctl.h"

static struct hv_open_opts hvo = { .provider = HV_PROVIDER_AUTO };
static const char *run_dir;
int splitctl_wait_s = 20;

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
		"                          (--wait SEC, default 20; 0: do not wait).\n"
		"                          First checks, as xl does, that the domain exists\n"
		"                          and a local TARGET is a readable (mode=w:\n"
		"                          writable) file or block device; if the backend\n"
		"                          then fails (or the wait ends), removes what it\n"
		"                          wrote and says why\n"
		"  block-detach DOMID VDEV  close the device as libxl does and remove it\n"
		"                          (one that never connected: just remove it)\n"
		"  block-list DOMID         the domain's disks: backend state, target and\n"
		"                          blkback's per-device stats\n"
		"  network-attach DOMID [mac=MAC] [bridge=BR] [rate=RATE] [script=S]\n"
		"                 [ip=IPS] [backend=DOMID] [vifname=NAME] [type=vif]\n"
		"                          add a NIC as xl does (libxl's vif nodes, one\n"
		"                          transaction): mac defaults to a random\n"
		"                          00:16:3e:xx:xx:xx, bridge to xenbr0 (bridge=\n"
		"                          with no name: none), rate as xl's RATE[@INTERVAL]\n"
		"                          (10Mb/s, 1MB/s@20ms); waits, as block-attach,\n"
		"                          for netback and then the guest's netfront\n"
		"  network-detach DOMID DEVID|MAC  close the NIC as libxl does, remove it\n"
		"  network-list DOMID      the domain's NICs: devid, backend, MAC, state,\n"
		"                          event channel, ring refs, backend path\n"
		"  status DAEMON           the daemon's JSON status (loophvd, xenstored,\n"
		"                          blkback, ...) from RUN_DIR/DAEMON.ctl\n"
		"  stats DAEMON            the daemon's JSON statistics\n"
		"\n"
		"Options:\n"
		"      --run-dir=DIR       run directory of the daemons (default\n"
		"                          $SPLITDRV_RUN_DIR, else /run/splitdrv)\n"
		"      --hv=loop|xen|auto  hypervisor provider (default auto)\n"
		"      --wait=SEC          attach/detach: how long to wait for the\n"
		"                          backend (default 20)\n"
		"      --no-wait           attach/detach: write the nodes, do not wait\n"
		"                          (as --wait=0)\n"
		"  -h, --help              this help\n"
		"  -V, --version           version\n"
		"\n"
		"Environment: XENSTORED_PATH, the xenstored socket for libxenstore.\n"
		"Exit status: 0 on success, 1 on failure (with a message), 2 on bad usage.\n");
}

/* splitctl_parse_uint - a decimal number <= max. 0 or -1. */
int splitctl_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_domid(const char *s, domid_t *out)
{
	unsigned long v;

	if (splitctl_parse_uint(s, DOMID_FIRST_RESERVED - 1, &v) || v == 0) {
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
		fprintf(stderr,
			"splitctl: cannot reach the hypervisor (%s): %s\n",
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
		       info[i].shutdown ? "shutdown"
					: (info[i].dying ? "" : "running"));
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
		fprintf(stderr, "splitctl: domain %u: store page/port: %s\n",
			domid, strerror(-r));
		return 1;
	}
	if (port == 0) {
		fprintf(stderr,
			"splitctl: domain %u has no store event channel "
			"yet (HVM_PARAM_STORE_EVTCHN is 0)\n",
			domid);
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
		fprintf(stderr, "splitctl: XS_INTRODUCE of domain %u: %s\n",
			domid, strerror(errno));
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
		fprintf(stderr, "splitctl: XS_RELEASE of domain %u: %s\n",
			domid, strerror(errno));
		rc = -1;
	}
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(xs, XBT_NULL, path);
	/* and what the toolstack created for it in dom0's backend dirs */
	{
		unsigned int n = 0;
		char **types = xs_directory(xs, XBT_NULL,
					    "/local/domain/0/backend", &n);

		for (unsigned int i = 0; types && i < n; i++) {
			snprintf(path, sizeof(path),
				 "/local/domain/0/backend/%s/%u", types[i],
				 domid);
			xs_rm(xs, XBT_NULL, path);
		}
		free(types);
	}
	return rc;
}

/* splitctl_xs_open - xenstored, or NULL after a message. */
struct xs_handle *splitctl_xs_open(void)
{
	struct xs_handle *xs = xs_open(0);

	if (!xs)
		fprintf(stderr, "splitctl: cannot reach xenstored: %s\n",
			strerror(errno));
	return xs;
}

static int cmd_release(domid_t domid)
{
	struct xs_handle *xs = splitctl_xs_open();
	int rc;

	if (!xs)
		return 1;
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
	if (!strncmp(v, "xvd", 3) || !strncmp(v, "hd", 2) ||
	    !strncmp(v, "sd", 2)) {
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
			*out = ((disk < 2 ? 3UL : 22UL) << 8) |
			       ((disk % 2) << 6) | part;
		else if (v[0] == 's' && disk < 16)
			*out = (8UL << 8) | (disk << 4) | part;
		else
			return -1;
		return 0;
	}
	return -1;
}

/* splitctl_read - the value at a printf-style path, or NULL. */
char *splitctl_read(struct xs_handle *xs, xs_transaction_t t, const char *fmt,
		    ...)
{
	char path[256];
	unsigned int len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return xs_read(xs, t, path, &len);
}

/* splitctl_state - the backend's XenbusState, -1 if it has none. */
int splitctl_state(struct xs_handle *xs, xs_transaction_t t, const char *be)
{
	char *st = splitctl_read(xs, t, "%s/state", be);
	int s = st ? atoi(st) : -1;

	free(st);
	return s;
}

/* Set by SIGINT/SIGTERM while block-attach waits: undo, then exit. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* splitctl_catch_interrupts - SIGINT/SIGTERM end a wait (no SA_RESTART:
 * usleep returns), so that the caller can undo what it wrote. */
void splitctl_catch_interrupts(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * splitctl_wait_state - until the backend's state is want (or, with at_least, any
 * of want..Connected: a fast frontend may take it past want before we
 * look), an error key shows up (*err, to free), the device closes, or
 * splitctl_wait_s passes. Progress on stderr.
 */
enum splitctl_wait_end splitctl_wait_state(struct xs_handle *xs, const char *be,
					   int want, int at_least,
					   const char *what, char **err)
{
	enum splitctl_wait_end end = WAIT_TIMEOUT;
	int printed = 0;

	*err = NULL;
	for (int i = 0; i < splitctl_wait_s * 10; i++) {
		int s = splitctl_state(xs, XBT_NULL, be);

		if (s == want || (at_least && s >= want && s <= 4)) {
			end = WAIT_OK;
			break;
		}
		/* after the state: blkback writes error before Closed */
		*err = splitctl_read(xs, XBT_NULL, "%s/error", be);
		if (*err && **err) {
			end = WAIT_ERROR;
			break;
		}
		free(*err);
		*err = NULL;
		if (s < 0) {
			end = WAIT_GONE;
			break;
		}
		if ((s == 5 || s == 6) && want < 5) {
			end = WAIT_CLOSED;
			break;
		}
		if (interrupted) {
			end = WAIT_INTERRUPTED;
			break;
		}
		if (i % 10 == 0 && i > 0) {
			fprintf(stderr,
				"\r%s: backend state %d (waiting for %d) %ds ",
				what, s, want, i / 10);
			printed = 1;
		}
		usleep(100000);
	}
	if (printed)
		fprintf(stderr, "\n");
	return end;
}

/*
 * splitctl_error_words - an "error" node's "<errno> <what>" as words: the errno's
 * text, then what the backend says it was doing, into buf.
 */
void splitctl_error_words(const char *err, char *buf, size_t len)
{
	char *end;
	long e = strtol(err, &end, 10);

	if (end != err && e > 0 && e < 4096 && (*end == ' ' || !*end)) {
		while (*end == ' ')
			end++;
		if (*end)
			snprintf(buf, len, "%s (the backend reports: %s)",
				 strerror((int)e), end);
		else
			snprintf(buf, len, "%s", strerror((int)e));
	} else {
		snprintf(buf, len, "the backend reports: %s", err);
	}
}

/*
 * check_target - what xl checks before it writes anything: the target is
 * one blkback serves (the same parser), and a local path exists, is a
 * regular file or a block device, and is readable (and writable for
 * mode w) by us. NBD URIs are checked for syntax only: the server may be
 * elsewhere. 0, or -1 with *why (static or in buf).
 */
static int check_target(const char *target, int writable, char *buf, size_t len,
			const char **why)
{
	struct blkbk_params p;
	struct stat st;

	if (blkbk_params_parse(target, NULL, &p, why) < 0) {
		snprintf(buf, len,
			 "not a target blkback serves: %s (/path, "
			 "file:/path, phy:/dev/X, nbd://HOST[:PORT][/EXPORT], "
			 "nbd+unix:///EXPORT?socket=PATH)",
			 *why ? *why : "invalid");
		*why = buf;
		return -1;
	}
	if (p.kind != BLKBK_BACKING_FILE)
		return 0;
	if (stat(p.path, &st) < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		*why = S_ISDIR(st.st_mode)
			       ? "it is a directory, not a disk image or a block device"
			       : "not a regular file or a block device";
		return -1;
	}
	if (access(p.path, writable ? R_OK | W_OK : R_OK) < 0) {
		snprintf(buf, len, "%s%s", strerror(errno),
			 writable ? " (opened read-write; mode=r for a "
				    "read-only disk)"
				  : "");
		*why = buf;
		return -1;
	}
	return 0;
}

/*
 * splitctl_check_domain - the guest exists: it has its xenstore home and, when the
 * hypervisor answers, the hypervisor knows it and it is not on its way
 * out. 0, or -1 with *why in buf.
 */
int splitctl_check_domain(struct xs_handle *xs, domid_t domid, char *buf,
			  size_t len)
{
	struct hv_open_opts o = hvo;
	struct hv_domain_info info;
	struct hv_domains *d;
	struct hv *hv;
	char *home;
	int r;

	home = splitctl_read(xs, XBT_NULL, "/local/domain/%u/domid", domid);
	if (!home) {
		snprintf(buf, len,
			 "domain %u does not exist (it has no "
			 "/local/domain/%u in xenstore: introduce it first)",
			 domid, domid);
		return -1;
	}
	free(home);
	o.run_dir = run_dir;
	hv = hv_open(&o);
	if (!hv)
		return 0; /* no hypervisor to ask: xenstore's word for it */
	d = hv_domains_open(hv);
	r = d ? hv_domains_info(d, domid, &info) : -ENOSYS; /* no word */
	hv_domains_close(d);
	hv_close(hv);
	if (r == -ESRCH) {
		snprintf(buf, len,
			 "domain %u does not exist (the hypervisor "
			 "does not know it; see splitctl domains)",
			 domid);
		return -1;
	}
	if (r == 0 && (info.dying || info.shutdown)) {
		snprintf(buf, len, "domain %u is %s", domid,
			 info.dying ? "dying" : "shut down");
		return -1;
	}
	return 0;
}

/*
 * request_close - online=0 and state Closing in one transaction, as
 * libxl writes them: a backend that acts on online=0 at once (one not yet
 * Connected goes straight to Closed) must not have its Closed overwritten
 * by a Closing written after it. 0, or -1 with errno.
 */
static int request_close(struct xs_handle *xs, const char *be)
{
	char on[160], st[160];

	snprintf(on, sizeof(on), "%s/online", be);
	snprintf(st, sizeof(st), "%s/state", be);
	for (int tries = 0; tries < 10; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);

		if (!t)
			return -1;
		if (!xs_write(xs, t, on, "0", 1) ||
		    !xs_write(xs, t, st, "5", 1)) {
			int e = errno;

			xs_transaction_end(xs, t, true);
			errno = e;
			return -1;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

/*
 * splitctl_close_backend - libxl's way to take a device from a backend that drives
 * it (state InitWait..Closing): online=0, state Closing, then up to
 * timeout_s for Closed. Removing the directories under a backend that is
 * still on the way would have it write its state back into them.
 */
void splitctl_close_backend(struct xs_handle *xs, const char *be, int timeout_s)
{
	int s;

	s = splitctl_state(xs, XBT_NULL, be);
	if (s < 2 || s > 5)
		return; /* nobody drives it, or it is closed already */
	if (request_close(xs, be) < 0)
		return; /* the caller removes it anyway */
	for (int i = 0; i < timeout_s * 10; i++) {
		s = splitctl_state(xs, XBT_NULL, be);
		if (s == 6 || s < 0)
			return;
		usleep(100000);
	}
}

/* splitctl_remove_device - the backend and frontend directories, in one go. */
int splitctl_remove_device(struct xs_handle *xs, const char *be, const char *fe)
{
	for (int tries = 0; tries < 10; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);

		if (!t)
			return -1;
		/* ENOENT: gone already, fine */
		if ((!xs_rm(xs, t, be) && errno != ENOENT) ||
		    (!xs_rm(xs, t, fe) && errno != ENOENT)) {
			xs_transaction_end(xs, t, true);
			return -1;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -1;
	}
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
	const char *target = args[0], *vdev = args[1], *mode = "w",
		   *btype = "vbd", *why = NULL;
	char fe[128], be[128], key[192], val[320], whybuf[512];
	unsigned long devid;
	struct xs_handle *xs;
	xs_transaction_t t;
	int ok = 1;

	if (vdev_to_devid(vdev, &devid)) {
		fprintf(stderr,
			"splitctl: '%s' is not a virtual device name "
			"(xvda, hda, sda, or a number)\n",
			vdev);
		return 2;
	}
	for (int i = 2; i < nargs; i++) {
		if (!strcmp(args[i], "mode=r") || !strcmp(args[i], "mode=ro"))
			mode = "r";
		else if (!strcmp(args[i], "mode=w") ||
			 !strcmp(args[i], "mode=rw"))
			mode = "w";
		else if (!strncmp(args[i], "backendtype=", 12) && args[i][12] &&
			 !strchr(args[i] + 12, '/'))
			btype = args[i] + 12;
		else {
			fprintf(stderr, "splitctl: unknown option '%s'\n",
				args[i]);
			return 2;
		}
	}
#define CANNOT(...)                                                            \
	do {                                                                   \
		snprintf(whybuf, sizeof(whybuf), __VA_ARGS__);                 \
		fprintf(stderr,                                                \
			"splitctl: cannot attach %s to domain %u "             \
			"as %s: %s\n",                                         \
			target, domid, vdev, whybuf);                          \
	} while (0)
	/* Nothing is written before the target and the domain passed. */
	if (check_target(target, mode[0] == 'w', val, sizeof(val), &why)) {
		CANNOT("%s", why);
		return 1;
	}
	xs = xs_open(0);
	if (!xs) {
		CANNOT("cannot reach xenstored at %s: %s (is it running?)",
		       getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH")
						: "libxenstore's default socket",
		       strerror(errno));
		return 1;
	}
	if (splitctl_check_domain(xs, domid, val, sizeof(val))) {
		CANNOT("%s", val);
		xs_close(xs);
		return 1;
	}
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%lu", domid,
		 devid);
	snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%lu", btype,
		 domid, devid);
	for (int tries = 0;; tries++) {
		char *exists;

		t = xs_transaction_start(xs);
		exists = xs_read(xs, t, be, (unsigned int[]){ 0 });
		if (exists) {
			free(exists);
			xs_transaction_end(xs, t, true);
			CANNOT("domain %u already has %s (%s; splitctl "
			       "block-detach %u %s removes it)",
			       domid, vdev, be, domid, vdev);
			xs_close(xs);
			return 1;
		}
#define W(dir, k, ...)                                                         \
	do {                                                                   \
		snprintf(key, sizeof(key), "%s/%s", dir, k);                   \
		snprintf(val, sizeof(val), __VA_ARGS__);                       \
		ok &= xs_write(xs, t, key, val, (unsigned)strlen(val));        \
	} while (0)
		ok = xs_mkdir(xs, t, fe) &&
		     xs_set_permissions(xs, t, fe, guest_owns, 2);
		W(fe, "backend", "%s", be);
		W(fe, "backend-id", "0");
		W(fe, "virtual-device", "%lu", devid);
		W(fe, "device-type", "disk");
		W(fe, "state", "1");
		ok &= xs_mkdir(xs, t, be) &&
		      xs_set_permissions(xs, t, be, dom0_owns, 2);
		W(be, "frontend", "%s", fe);
		W(be, "frontend-id", "%u", domid);
		W(be, "online", "1");
		W(be, "removable", "0");
		W(be, "bootable", "1");
		W(be, "dev", "%s", vdev);
		W(be, "params", "%s", target);
		W(be, "mode", "%s", mode);
		W(be, "state", "1");
#undef W
		if (!ok) {
			int e = errno;

			xs_transaction_end(xs, t, true);
			CANNOT("writing %s: %s", be, strerror(e));
			xs_close(xs);
			return 1;
		}
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN || tries > 10) {
			CANNOT("writing %s: %s", be, strerror(errno));
			xs_close(xs);
			return 1;
		}
	}
	if (!splitctl_wait_s) {
		printf("attaching %s (devid %lu) of domain %u: %s, mode %s "
		       "(--wait 0: not waiting for the backend)\n",
		       vdev, devid, domid, target, mode);
		xs_close(xs);
		return 0;
	}
	snprintf(whybuf, sizeof(whybuf), "cannot attach %s to domain %u as %s",
		 target, domid, vdev);
	snprintf(key, sizeof(key), "splitctl block-detach %u %s", domid, vdev);
	if (splitctl_attach_wait(xs, be, fe, "blkback", "blkfront", whybuf,
				 key) == 0)
		printf("attached %s (devid %lu) of domain %u: %s, mode %s: "
		       "connected\n",
		       vdev, devid, domid, target, mode);
	else
		ok = 0;
#undef CANNOT
	xs_close(xs);
	return ok ? 0 : 1;
}

/*
 * splitctl_attach_wait - after an attach wrote be and fe: wait (up to
 * splitctl_wait_s each) for the backend (daemon) to take the device
 * (InitWait, or further) and then for the frontend to connect. 0 when
 * Connected. Otherwise says why on stderr, after "splitctl: " and what
 * (e.g. "cannot attach X to domain 5 as xvdb"), closes and removes both
 * directories (undo, e.g. "splitctl block-detach 5 xvdb", is what the
 * user runs if that fails) and returns 1.
 */
int splitctl_attach_wait(struct xs_handle *xs, const char *be, const char *fe,
			 const char *daemon, const char *frontend,
			 const char *what, const char *undo)
{
	enum splitctl_wait_end end;
	char why[512], *err = NULL;

	/* From here on, a failure removes what was written: a retry, or
	 * the next valid attach, finds a clean slate. */
	splitctl_catch_interrupts();
	/* InitWait: the backend took it; Connected: the frontend too */
	end = splitctl_wait_state(xs, be, 2, 1, daemon, &err);
	if (end == WAIT_OK)
		end = splitctl_wait_state(xs, be, 4, 0, "frontend", &err);
	switch (end) {
	case WAIT_OK:
		return 0;
	case WAIT_ERROR:
		splitctl_error_words(err, why, sizeof(why));
		break;
	case WAIT_CLOSED:
		snprintf(why, sizeof(why),
			 "the device closed before it connected (see %s's "
			 "log)",
			 daemon);
		break;
	case WAIT_GONE:
		snprintf(why, sizeof(why), "%s was removed while it connected",
			 be);
		break;
	case WAIT_TIMEOUT:
		if (splitctl_state(xs, XBT_NULL, be) >= 2)
			snprintf(why, sizeof(why),
				 "the guest's frontend did not connect within "
				 "%d s (is the guest running its %s? --wait "
				 "SEC waits longer)",
				 splitctl_wait_s, frontend);
		else
			snprintf(why, sizeof(why),
				 "%s did not take the device within %d s (is "
				 "%s running? splitctl status %s)",
				 daemon, splitctl_wait_s, daemon, daemon);
		break;
	case WAIT_INTERRUPTED:
		snprintf(why, sizeof(why), "interrupted");
		break;
	}
	fprintf(stderr, "splitctl: %s: %s\n", what, why);
	free(err);
	splitctl_close_backend(xs, be, 5);
	if (splitctl_remove_device(xs, be, fe) < 0)
		fprintf(stderr, "splitctl: removing %s and %s: %s (%s)\n", be,
			fe, strerror(errno), undo);
	else
		fprintf(stderr, "splitctl: removed %s and %s\n", be, fe);
	return 1;
}

static int cmd_block_detach(domid_t domid, const char *vdev)
{
	unsigned long devid;
	char be[128], fe[128];
	struct xs_handle *xs;
	char *bepath;
	int rc;

	if (vdev_to_devid(vdev, &devid)) {
		fprintf(stderr, "splitctl: '%s' is not a virtual device name\n",
			vdev);
		return 2;
	}
	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr, "splitctl: cannot reach xenstored: %s\n",
			strerror(errno));
		return 1;
	}
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%lu", domid,
		 devid);
	bepath = splitctl_read(xs, XBT_NULL, "%s/backend", fe);
	if (bepath && !strncmp(bepath, "/local/domain/", 14)) {
		snprintf(be, sizeof(be), "%s", bepath);
	} else {
		/* The guest (and its directory) may be gone already: the
		 * backend is where block-attach puts it. */
		snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/%lu",
			 domid, devid);
		free(bepath);
		bepath = splitctl_read(xs, XBT_NULL, "%s/frontend", be);
		if (!bepath) {
			fprintf(stderr, "splitctl: domain %u has no disk %s\n",
				domid, vdev);
			xs_close(xs);
			return 1;
		}
	}
	free(bepath);
	rc = splitctl_detach(xs, be, fe, vdev, domid, "blkback", 0);
	xs_close(xs);
	return rc;
}

/*
 * splitctl_detach - libxl's removal of a device: one that never connected
 * (its backend gave up: Closed, or an error; with untaken_too, also one
 * no backend took yet) is just removed; otherwise online=0 and Closing,
 * up to splitctl_wait_s for Closed, then its directories are removed
 * (also when the wait ends). name says which device in messages, daemon
 * which backend. 0, or 1 after a message.
 */
int splitctl_detach(struct xs_handle *xs, const char *be, const char *fe,
		    const char *name, domid_t domid, const char *daemon,
		    int untaken_too)
{
	enum splitctl_wait_end end;
	char path[160], *err;
	int rc = 0, s;

	s = splitctl_state(xs, XBT_NULL, be);
	err = splitctl_read(xs, XBT_NULL, "%s/error", be);
	if (s == 6 || s < 0 || (err && *err) || (untaken_too && s < 2)) {
		free(err);
		if (splitctl_remove_device(xs, be, fe) < 0) {
			fprintf(stderr, "splitctl: removing %s: %s\n", be,
				strerror(errno));
			return 1;
		}
		printf("detached %s of domain %u (it was not connected)\n",
		       name, domid);
		return 0;
	}
	free(err);
	/* libxl's way: online=0, state=Closing, wait for Closed, remove */
	if (request_close(xs, be) < 0)
		fprintf(stderr, "splitctl: asking %s to close: %s\n", be,
			strerror(errno));
	/* gone meanwhile (someone removed it): closed all the same */
	if (splitctl_wait_s &&
	    (end = splitctl_wait_state(xs, be, 6, 0, "close", &err)) != WAIT_OK &&
	    end != WAIT_GONE) {
		if (end == WAIT_ERROR) {
			splitctl_error_words(err, path, sizeof(path));
			fprintf(stderr, "splitctl: closing %s: %s\n", be, path);
		} else {
			fprintf(stderr,
				"splitctl: %s did not close within %d s "
				"(is %s running?)\n",
				be, splitctl_wait_s, daemon);
		}
		free(err);
		fprintf(stderr, "splitctl: removing the device anyway\n");
		rc = 1;
	}
	splitctl_remove_device(xs, be, fe);
	if (!rc)
		printf("detached %s of domain %u\n", name, domid);
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
	devs = st ? json_object_get(json_object_get(st, "result"), "devices")
		  : NULL;
	snprintf(dir, sizeof(dir), "/local/domain/%u/device/vbd", domid);
	ids = xs_directory(xs, XBT_NULL, dir, &n);
	printf("%-8s %-6s %-5s %-40s %s\n", "DEVID", "STATE", "MODE", "TARGET",
	       "STATS");
	for (unsigned int i = 0; ids && i < n; i++) {
		char *be = splitctl_read(xs, XBT_NULL, "%s/%s/backend", dir,
					 ids[i]);
		char *state =
			be ? splitctl_read(xs, XBT_NULL, "%s/state", be) : NULL;
		char *params = be ? splitctl_read(xs, XBT_NULL, "%s/params", be)
				  : NULL;
		char *mode =
			be ? splitctl_read(xs, XBT_NULL, "%s/mode", be) : NULL;
		char name[64];
		json_t *mine = NULL, *d;
		size_t k;

		snprintf(name, sizeof(name), "vbd/%u/%s", domid, ids[i]);
		json_array_foreach(devs, k, d) if (
			json_is_string(json_object_get(d, "device")) &&
			!strcmp(json_string_value(json_object_get(d, "device")),
				name)) mine = json_object_get(d, "stats");
		printf("%-8s %-6s %-5s %-40s ", ids[i], state ? state : "-",
		       mode ? mode : "-", params ? params : "-");
		if (mine) {
			char *txt =
				json_dumps(mine, JSON_COMPACT | JSON_SORT_KEYS);

			printf("%s\n", txt ? txt : "");
			free(txt);
		} else {
			printf("%s\n", st ? "(not connected)"
					  : "(blkback not reachable)");
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
		{ "no-wait", no_argument, NULL, 'n' },
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
				fprintf(stderr,
					"splitctl: --hv: '%s' is not loop, "
					"xen or auto\n",
					optarg);
				return 2;
			}
			break;
		case 'w':
			splitctl_wait_s = atoi(optarg);
			if (splitctl_wait_s < 0 || splitctl_wait_s > 3600) {
				fprintf(stderr,
					"splitctl: --wait: 0..3600 seconds\n");
				return 2;
			}
			break;
		case 'n':
			splitctl_wait_s = 0;
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
	if (!strcmp(cmd, "network-attach") && argc >= 1) {
		if (parse_domid(argv[0], &domid))
			return 2;
		return splitctl_network_attach(domid, argv + 1, argc - 1);
	}
	if (!strcmp(cmd, "network-detach") && argc == 2) {
		if (parse_domid(argv[0], &domid))
			return 2;
		return splitctl_network_detach(domid, argv[1]);
	}
	if (!strcmp(cmd, "network-list") && argc == 1) {
		if (parse_domid(argv[0], &domid))
			return 2;
		return splitctl_network_list(domid);
	}
	if ((!strcmp(cmd, "status") || !strcmp(cmd, "stats")) && argc == 1)
		return cmd_ctl(argv[0], cmd);
	fprintf(stderr,
		"splitctl: unknown command or wrong arguments: %s "
		"(see splitctl --help)\n",
		cmd);
	return 2;
}
