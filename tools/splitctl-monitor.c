/*
 * splitctl-monitor.c - `splitctl monitor`: the toolstack's part of a
 * domain's death, as libxl does it for `xl create`'s monitor process.
 *
 * On real Xen, xl leaves a monitor process per domain; when xenstored
 * fires @releaseDomain it looks at the domain and, when it is shut down
 * or dying, destroys it (libxl__destroy_domid): every device of it is
 * closed and removed, then /local/domain/<id>. On the loopback hypervisor
 * loophvd plays Xen, and this command plays xl: one process for all
 * domains.
 *
 *   wake up   the hypervisor's domain events (DEAD, SHUTDOWN) and the
 *             @releaseDomain watch; also once at start, for domains that
 *             died before we ran
 *   scan      the domains the hypervisor lists + the domids that have a
 *             /local/domain/<id> or a backend/<type>/<id> directory; a
 *             domid is to be destroyed when the hypervisor says dying or
 *             shut down, or no longer knows it while xenstore still does
 *   destroy   per device of the domain (backend/<type>/<id>/<devid>), as
 *             libxl__initiate_device_generic_remove: in one transaction,
 *             a Connected backend gets online=0 and state=5 (Closing),
 *             anything else is removed at once (nobody to wait for); then
 *             up to --close-timeout (10 s, libxl's LIBXL_DESTROY_TIMEOUT)
 *             for state 6 (Closed); then the backend and frontend
 *             directories go. Last, splitctl release: XS_RELEASE,
 *             /local/domain/<id>, the backend/<type>/<id> directories.
 *
 * A domid is destroyed once; it may be again only after the hypervisor
 * listed it alive (a reused domid) or xenstore grew nodes for it again.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/xenbus.h>
#include <xen/sched.h>

#include "daemon.h"
#include "hv.h"
#include "log.h"
#include "tools/splitctl.h"

#define MON_MAX_DOMAINS 1024
#define MON_MAX_DEVICES 256
#define MON_TOKEN       "splitctl-monitor"
#define BACKEND_ROOT    "/local/domain/0/backend"

struct mon {
	struct hv *hv;
	struct hv_domains *doms;
	struct xs_handle *xs;
	unsigned int close_timeout_s;
	bool done[DOMID_FIRST_RESERVED]; /* destroyed, not seen alive since */
	unsigned int destroyed;
	int failures;
};

/* one device being closed */
struct mon_dev {
	char be[128];
	char fe[128];  /* "" when the backend names no frontend of the domain */
	char name[64]; /* "vbd/5/51712" */
	bool wait;     /* it was Connected: wait for Closed */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: splitctl [--run-dir DIR] [--hv loop|xen|auto] monitor [OPTIONS]\n"
		"\n"
		"Play the toolstack's part when a guest ends, as xl's per-domain monitor\n"
		"process does on Xen (libxl's domain destroy): stay in the foreground and,\n"
		"for every domain that dies, or shuts down when the hypervisor reports it,\n"
		"  1. close each of its devices (backend/<type>/<domid>/<devid> under\n"
		"     /local/domain/0): a Connected backend gets online=0 and state=5\n"
		"     (Closing), and the monitor waits up to 10 s for state 6 (Closed);\n"
		"  2. remove each device's backend and frontend directories;\n"
		"  3. remove /local/domain/<domid> and XS_RELEASE the domain (splitctl\n"
		"     release).\n"
		"It wakes up on the hypervisor's domain events and on xenstore's\n"
		"@releaseDomain, and looks once at start, so domains that died before it\n"
		"ran are cleaned up too. A domain the hypervisor no longer lists but that\n"
		"xenstore still names is treated as dead. Each step is logged on stderr.\n"
		"Run one monitor per host, and none beside xl (which does this itself).\n"
		"On the loopback hypervisor a domain dies when its process exits or is\n"
		"killed; on Xen the monitor removes a shut-down domain's devices and\n"
		"nodes but leaves the domain itself to `xl destroy`.\n"
		"\n"
		"Options:\n"
		"      --once               clean up what is dead now, then exit\n"
		"      --close-timeout=SEC  how long a backend gets to reach Closed\n"
		"                           (default 10, as libxl; 0..600)\n"
		"  -v, --verbose            also log each domain looked at (debug)\n"
		"  -h, --help               this help\n"
		"\n"
		"Signals: SIGTERM or SIGINT stop it (after the domain in progress).\n"
		"Environment: XENSTORED_PATH, the xenstored socket for libxenstore.\n"
		"Exit status: 0 when stopped by a signal, or with --once when everything\n"
		"dead was cleaned up; 1 when a step failed (with --once), or xenstored or\n"
		"the hypervisor cannot be reached or went away; 2 on bad usage.\n");
}

/*
 * begin_close - libxl's first step for one device, in one transaction:
 * read the backend's state; Connected -> online=0, state=Closing (we
 * wait); anything else, or a backend that is gone -> remove it now.
 * Returns 0, or -1 when xenstore said no.
 */
static int begin_close(struct mon *m, struct mon_dev *d)
{
	char path[192];

	for (int tries = 0; tries < 10; tries++) {
		xs_transaction_t t = xs_transaction_start(m->xs);
		bool ok = true;

		if (!t)
			return -1;
		d->wait =
			splitctl_state(m->xs, t, d->be) == XenbusStateConnected;
		if (d->wait) {
			snprintf(path, sizeof(path), "%.128s/online", d->be);
			ok &= xs_write(m->xs, t, path, "0", 1);
			snprintf(path, sizeof(path), "%.128s/state", d->be);
			ok &= xs_write(m->xs, t, path, "5", 1);
		} else {
			xs_rm(m->xs, t, d->be); /* ENOENT: gone already */
			if (d->fe[0])
				xs_rm(m->xs, t, d->fe);
		}
		if (!ok) {
			xs_transaction_end(m->xs, t, true);
			return -1;
		}
		if (xs_transaction_end(m->xs, t, false)) {
			log_info_dev(-1, d->name,
				     d->wait ? "backend Connected: online=0, state=Closing"
					     : "backend not connected: removed");
			return 0;
		}
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

/* list_devices - every backend/<type>/<domid>/<devid> of domid. */
static unsigned int list_devices(struct mon *m, domid_t domid,
				 struct mon_dev *out, unsigned int max)
{
	char **types, **ids, dir[160], fepfx[48];
	unsigned int nt = 0, ni, n = 0;

	snprintf(fepfx, sizeof(fepfx), "/local/domain/%u/", domid);
	types = xs_directory(m->xs, XBT_NULL, BACKEND_ROOT, &nt);
	for (unsigned int i = 0; types && i < nt; i++) {
		snprintf(dir, sizeof(dir), BACKEND_ROOT "/%s/%u", types[i],
			 domid);
		ni = 0;
		ids = xs_directory(m->xs, XBT_NULL, dir, &ni);
		for (unsigned int j = 0; ids && j < ni && n < max; j++) {
			struct mon_dev *d = &out[n];
			char *fe;

			memset(d, 0, sizeof(*d));
			if (snprintf(d->be, sizeof(d->be), "%s/%s", dir,
				     ids[j]) >= (int)sizeof(d->be))
				continue;
			snprintf(d->name, sizeof(d->name), "%s/%u/%s", types[i],
				 domid, ids[j]);
			fe = splitctl_read(m->xs, XBT_NULL, "%s/frontend",
					   d->be);
			/* the frontend is the guest's own, or we leave it */
			if (fe && !strncmp(fe, fepfx, strlen(fepfx)) &&
			    !strstr(fe, "/../") && strlen(fe) < sizeof(d->fe))
				strcpy(d->fe, fe);
			free(fe);
			n++;
		}
		free(ids);
	}
	free(types);
	return n;
}

/* wait_closed - until every waited-for backend says Closed (6), is
 * gone, or the timeout passes; those that did not close are logged. */
static void wait_closed(struct mon *m, struct mon_dev *devs, unsigned int n)
{
	uint64_t end = daemon_monotonic_ms() + m->close_timeout_s * 1000ull;

	for (;;) {
		unsigned int left = 0;

		for (unsigned int i = 0; i < n; i++) {
			int st;

			if (!devs[i].wait)
				continue;
			st = splitctl_state(m->xs, XBT_NULL, devs[i].be);
			if (st < 0 || st == XenbusStateClosed) {
				log_info_dev(-1, devs[i].name, "backend %s",
					     st < 0 ? "gone" : "Closed");
				devs[i].wait = false;
			} else {
				left++;
			}
		}
		if (!left)
			return;
		if (daemon_monotonic_ms() >= end)
			break;
		usleep(50000);
	}
	for (unsigned int i = 0; i < n; i++)
		if (devs[i].wait)
			log_warnx_dev(-1, devs[i].name,
				      "backend did not reach Closed within %u s "
				      "(is its backend daemon running?): removing "
				      "it anyway",
				      m->close_timeout_s);
}

/* destroy - libxl's domain destroy, the xenstore part. */
static void destroy(struct mon *m, domid_t domid, const char *why)
{
	static struct mon_dev devs[MON_MAX_DEVICES];
	unsigned int n;
	int fail = 0;

	log_notice("domain %u %s: destroying its devices and xenstore nodes",
		   domid, why);
	n = list_devices(m, domid, devs, MON_MAX_DEVICES);
	for (unsigned int i = 0; i < n; i++)
		if (begin_close(m, &devs[i]) < 0) {
			log_warn("%s: closing the backend", devs[i].be);
			fail = 1;
		}
	wait_closed(m, devs, n);
	for (unsigned int i = 0; i < n; i++) {
		xs_rm(m->xs, XBT_NULL, devs[i].be);
		if (devs[i].fe[0])
			xs_rm(m->xs, XBT_NULL, devs[i].fe);
	}
	if (splitctl_release(m->xs, domid) < 0)
		fail = 1;
	m->done[domid] = true;
	m->destroyed++;
	m->failures += fail;
	log_notice("domain %u destroyed (%u device%s)%s", domid, n,
		   n == 1 ? "" : "s", fail ? ", with errors" : "");
}

/* traces - does xenstore still have anything of domid? */
static bool traces(struct mon *m, domid_t domid)
{
	char *v, **types;
	unsigned int nt = 0;
	bool found = false;

	v = splitctl_read(m->xs, XBT_NULL, "/local/domain/%u", domid);
	if (v) {
		free(v);
		return true;
	}
	types = xs_directory(m->xs, XBT_NULL, BACKEND_ROOT, &nt);
	for (unsigned int i = 0; types && i < nt && !found; i++) {
		v = splitctl_read(m->xs, XBT_NULL, BACKEND_ROOT "/%s/%u",
				  types[i], domid);
		found = v != NULL;
		free(v);
	}
	free(types);
	return found;
}

/* add_xs_domids - the domids named by the directory dir's children. */
static void add_xs_domids(struct mon *m, const char *dir, bool *named)
{
	char **ents;
	unsigned int n = 0;

	ents = xs_directory(m->xs, XBT_NULL, dir, &n);
	for (unsigned int i = 0; ents && i < n; i++) {
		unsigned long id;

		if (!splitctl_parse_uint(ents[i], DOMID_FIRST_RESERVED - 1,
					 &id) &&
		    id)
			named[id] = true;
	}
	free(ents);
}

static const char *shutdown_reason(unsigned int r)
{
	switch (r) {
	case SHUTDOWN_poweroff:
		return "poweroff";
	case SHUTDOWN_reboot:
		return "reboot";
	case SHUTDOWN_suspend:
		return "suspend";
	case SHUTDOWN_crash:
		return "crash";
	case SHUTDOWN_watchdog:
		return "watchdog";
	default:
		return "unknown reason";
	}
}

/* scan - destroy what is dead. 0, or -1 when the hypervisor or xenstore
 * could not be asked. */
static int scan(struct mon *m)
{
	static struct hv_domain_info info[MON_MAX_DOMAINS];
	static bool named[DOMID_FIRST_RESERVED];
	static char why[DOMID_FIRST_RESERVED][48];
	char **types;
	unsigned int nt = 0;
	int n;

	n = hv_domains_list(m->doms, info, MON_MAX_DOMAINS);
	if (n < 0) {
		log_errno(LOG_ERR, n, "listing the hypervisor's domains");
		return -1;
	}
	if (n > MON_MAX_DOMAINS)
		n = MON_MAX_DOMAINS;
	memset(named, 0, sizeof(named));
	add_xs_domids(m, "/local/domain", named);
	types = xs_directory(m->xs, XBT_NULL, BACKEND_ROOT, &nt);
	for (unsigned int i = 0; types && i < nt; i++) {
		char dir[128];

		snprintf(dir, sizeof(dir), BACKEND_ROOT "/%s", types[i]);
		add_xs_domids(m, dir, named);
	}
	free(types);
	for (unsigned int id = 1; id < DOMID_FIRST_RESERVED; id++)
		why[id][0] = 0;
	for (int i = 0; i < n; i++) {
		domid_t id = info[i].domid;

		if (id == 0 || id >= DOMID_FIRST_RESERVED)
			continue;
		named[id] = true;
		if (info[i].dying)
			snprintf(why[id], sizeof(why[id]), "is dying");
		else if (info[i].shutdown)
			snprintf(why[id], sizeof(why[id]), "shut down (%s)",
				 shutdown_reason(info[i].shutdown_reason));
		else
			snprintf(why[id], sizeof(why[id]), "-"); /* alive */
	}
	for (unsigned int id = 1; id < DOMID_FIRST_RESERVED; id++) {
		if (!named[id])
			continue;
		if (!strcmp(why[id], "-")) {
			m->done[id] = false; /* alive: a reused domid */
			continue;
		}
		if (!why[id][0])
			snprintf(why[id], sizeof(why[id]), "is gone");
		if (m->done[id] && !traces(m, (domid_t)id)) {
			log_debug("domain %u %s: already destroyed", id,
				  why[id]);
			continue;
		}
		destroy(m, (domid_t)id, why[id]);
	}
	return 0;
}

/* drain - consume the queued domain events; -EPIPE when the hypervisor
 * connection is gone. */
static int drain(struct mon *m)
{
	struct hv_domain_event ev;
	int r;

	while ((r = hv_domains_next_event(m->doms, &ev)) == 0)
		log_info("domain %u: %s", ev.domid,
			 ev.kind == HV_DOMAIN_DEAD ? "dead" : "shut down");
	return r == -EAGAIN ? 0 : r;
}

/* drain_watch - consume fired watches; -1 when xenstored went away. */
static int drain_watch(struct mon *m)
{
	char **w;

	while ((w = xs_check_watch(m->xs)))
		free(w);
	return errno == EAGAIN ? 0 : -1;
}

static int run(struct mon *m, bool once)
{
	sigset_t set;
	int sfd;

	if (scan(m) < 0)
		return 1;
	if (once)
		return m->failures ? 1 : 0;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		log_err("signalfd");
		return 1;
	}
	log_notice("watching domains (hv %s)",
		   hv_provider_name(hv_provider(m->hv)));
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = hv_domains_fd(m->doms), .events = POLLIN },
			{ .fd = xs_fileno(m->xs), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int r;

		if (drain(m) < 0) {
			log_errx("the hypervisor connection is gone: stopping");
			return 1;
		}
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll");
			return 1;
		}
		if (p[2].revents) {
			log_notice("stopped by a signal");
			close(sfd);
			return 0;
		}
		if (p[1].revents && drain_watch(m) < 0) {
			log_errx("the xenstored connection is gone: stopping");
			return 1;
		}
		r = drain(m);
		if (r < 0) {
			log_errx("the hypervisor connection is gone: stopping");
			return 1;
		}
		if (scan(m) < 0)
			return 1;
	}
}

int splitctl_monitor(int argc, char **argv, struct hv_open_opts *hvo)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "close-timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct mon m;
	bool once = false;
	unsigned long v;
	int opt, rc;

	m.close_timeout_s = 10;
	optind = 0; /* a fresh getopt over the command's own arguments */
	while ((opt = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			once = true;
			break;
		case 't':
			if (splitctl_parse_uint(optarg, 600, &v)) {
				fprintf(stderr,
					"splitctl monitor: --close-timeout: "
					"'%s' is not 0..600 seconds\n",
					optarg);
				return 2;
			}
			m.close_timeout_s = (unsigned int)v;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
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
		fprintf(stderr,
			"splitctl monitor: unexpected argument '%s' "
			"(see splitctl monitor --help)\n",
			argv[optind]);
		return 2;
	}
	log_open("splitctl-monitor", LOG_TO_STDERR);
	if (log_get_level() < LOG_INFO)
		log_set_level(LOG_INFO);
	m.hv = hv_open(hvo);
	if (!m.hv) {
		log_err("cannot reach the hypervisor (%s)",
			hv_provider_name(hvo->provider));
		return 1;
	}
	m.doms = hv_domains_open(m.hv);
	if (!m.doms) {
		log_err("domain events of the hypervisor");
		hv_close(m.hv);
		return 1;
	}
	m.xs = xs_open(0);
	if (!m.xs) {
		log_err("cannot reach xenstored (XENSTORED_PATH=%s)",
			getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH")
						 : "unset");
		rc = 1;
		goto out;
	}
	if (!once && !xs_watch(m.xs, "@releaseDomain", MON_TOKEN)) {
		log_err("watching @releaseDomain");
		rc = 1;
		goto out;
	}
	rc = run(&m, once);
	if (once)
		log_notice("%u domain%s destroyed", m.destroyed,
			   m.destroyed == 1 ? "" : "s");
out:
	if (m.xs)
		xs_close(m.xs);
	hv_domains_close(m.doms);
	hv_close(m.hv);
	return rc;
}
