/*
 * loopdemo - what `./dev demo` shows of the hypervisor layer: dom0 and a
 * loopback guest domain (a child process) bind an event channel, share a
 * granted page and ping-pong messages through it, step by step.
 *
 * Usage: loopdemo [--run-dir DIR] [--round-trips N]
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "hv.h"

static struct hv_open_opts opts = { .provider = HV_PROVIDER_LOOP };

#define STEP(...)                                                              \
	do {                                                                   \
		printf("  " __VA_ARGS__);                                      \
		putchar('\n');                                                 \
		fflush(stdout);                                                \
	} while (0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* wait_port - block until the handle delivers a port; returns it. */
static int wait_port(struct hv_evtchn *e)
{
	for (;;) {
		struct pollfd pfd = { .fd = hv_evtchn_fd(e), .events = POLLIN };
		int p = hv_evtchn_pending(e);

		if (p >= 0)
			return p;
		if (p != -EAGAIN)
			return p;
		if (poll(&pfd, 1, 5000) != 1)
			return -ETIMEDOUT;
	}
}

struct msg {
	domid_t domid;
	grant_ref_t ref;
	uint64_t frame;
	evtchn_port_t port;
};

static int guest_main(int rd, int wr, long rounds)
{
	struct hv_domain_create cfg = { .mem_bytes = 16 << 20,
					.grant_frames = 4,
					.name = "demo-guest" };
	struct hv_guest_layout lay;
	struct hv *g = hv_domain_create(&opts, &cfg);
	struct hv_gntshr *gs;
	struct hv_evtchn *e;
	struct msg m;
	char *page;
	int lp, r;

	if (!g) {
		fprintf(stderr, "guest: domain create failed: %s\n",
			strerror(errno));
		return 1;
	}
	hv_guest_ram(g, &lay);
	STEP("[guest ] became domain %u: %llu MiB of memfd RAM, grant table in frames %llu..%llu",
	     hv_domid(g), (unsigned long long)(lay.nr_frames >> 8),
	     (unsigned long long)lay.gnttab_first,
	     (unsigned long long)(lay.gnttab_first + lay.gnttab_frames - 1));
	gs = hv_gntshr_open(g);
	e = hv_evtchn_open(g);
	page = hv_gntshr_share(gs, 0, 1, &m.ref, 1);
	if (!gs || !e || !page)
		return 2;
	m.domid = hv_domid(g);
	m.frame =
		(uint64_t)((uint8_t *)page - (uint8_t *)hv_guest_ram(g, NULL)) >>
		12;
	STEP("[guest ] granted frame %llu to domain 0 read-write: grant ref %u",
	     (unsigned long long)m.frame, m.ref);
	if (write(wr, &m, sizeof(m)) != sizeof(m) ||
	    read(rd, &m, sizeof(m)) != sizeof(m))
		return 3;
	lp = hv_evtchn_bind_interdomain(e, 0, m.port);
	if (lp < 0)
		return 4;
	STEP("[guest ] bound local port %d to dom0's port %u", lp, m.port);
	for (long i = 0; i < rounds; i++) {
		snprintf(page, 64, "ping #%ld", i);
		hv_evtchn_notify(e, (evtchn_port_t)lp);
		r = wait_port(e);
		if (r < 0)
			return 5;
		hv_evtchn_unmask(e, (evtchn_port_t)r);
		if (i < 3)
			STEP("[guest ] sent \"ping #%ld\", got back \"%s\"", i,
			     page + 64);
		if (strncmp(page + 64, "pong #", 6) || atol(page + 70) != i)
			return 6;
	}
	r = hv_gntshr_end_access(gs, m.ref);
	STEP("[guest ] end access to ref %u while dom0 maps it: %s (as on Xen)",
	     m.ref, r == -EBUSY ? "refused, EBUSY" : "UNEXPECTED");
	if (r != -EBUSY)
		return 7;
	/* Tell dom0 we are done, wait for its unmap, then end access. */
	hv_evtchn_notify(e, (evtchn_port_t)lp);
	if (wait_port(e) < 0)
		return 8;
	r = hv_gntshr_end_access(gs, m.ref);
	STEP("[guest ] end access after dom0 unmapped: %s",
	     r == 0 ? "ok" : strerror(-r));
	STEP("[guest ] exiting: the process ends, so domain %u dies",
	     hv_domid(g));
	return r == 0 ? 0 : 9;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run-dir", required_argument, NULL, 'd' },
		{ "round-trips", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long rounds = 100000;
	int p2c[2], c2p[2], opt, status, port, r;
	struct hv *dom0;
	struct hv_gnttab *gt;
	struct hv_evtchn *e;
	struct hv_domains *doms;
	struct msg m;
	char *page, ctlpath[300];
	double t0, t1;
	pid_t pid;
	json_t *st;

	while ((opt = getopt_long(argc, argv, "d:n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			opts.run_dir = optarg;
			break;
		case 'n':
			rounds = atol(optarg);
			if (rounds < 4)
				rounds = 4;
			break;
		case 'h':
			printf("Usage: loopdemo [--run-dir DIR] [--round-trips N]\n"
			       "Ping-pongs messages between dom0 and a loopback guest\n"
			       "through a granted page and an event channel.\n");
			return 0;
		default:
			return 2;
		}
	}
	dom0 = hv_open(&opts);
	if (!dom0) {
		fprintf(stderr, "loopdemo: cannot reach loophvd: %s\n",
			strerror(errno));
		return 1;
	}
	STEP("[dom0  ] connected to loophvd as domain %u (privileged)",
	     hv_domid(dom0));
	gt = hv_gnttab_open(dom0);
	e = hv_evtchn_open(dom0);
	doms = hv_domains_open(dom0);
	if (!gt || !e || !doms || pipe(p2c) || pipe(c2p))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(guest_main(p2c[0], c2p[1], rounds));
	if (read(c2p[0], &m, sizeof(m)) != sizeof(m))
		return 1;
	port = hv_evtchn_alloc_unbound(e, m.domid);
	STEP("[dom0  ] allocated port %d, offered to domain %u", port, m.domid);
	page = hv_gnttab_map_one(gt, m.domid, m.ref, 0);
	if (!page) {
		fprintf(stderr, "loopdemo: map failed: %s\n", strerror(errno));
		return 1;
	}
	STEP("[dom0  ] mapped grant ref %u of domain %u (entry checked: permit_access, domid 0, writable)",
	     m.ref, m.domid);
	m.port = (evtchn_port_t)port;
	if (write(p2c[1], &m, sizeof(m)) != sizeof(m))
		return 1;
	t0 = now_s();
	for (long i = 0; i < rounds; i++) {
		r = wait_port(e);
		if (r != port) {
			fprintf(stderr, "loopdemo: wait failed: %d\n", r);
			return 1;
		}
		hv_evtchn_unmask(e, (evtchn_port_t)r);
		if (i < 3)
			STEP("[dom0  ] port %d fired: page says \"%s\", answering",
			     r, page);
		snprintf(page + 64, 64, "pong #%ld", atol(page + 6));
		hv_evtchn_notify(e, (evtchn_port_t)port);
	}
	t1 = now_s();
	STEP("[dom0  ] %ld round trips in %.3f s: %.0f round trips/s, every message checked",
	     rounds, t1 - t0, (double)rounds / (t1 - t0));
	if (wait_port(e) != port)
		return 1;
	hv_evtchn_unmask(e, (evtchn_port_t)port);
	hv_gnttab_unmap(gt, page, 1);
	STEP("[dom0  ] unmapped the page (GTF_reading/GTF_writing cleared)");
	hv_evtchn_notify(e, (evtchn_port_t)port);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "loopdemo: guest failed (%d)\n",
			WEXITSTATUS(status));
		return 1;
	}
	{
		struct pollfd pfd = { .fd = hv_domains_fd(doms),
				      .events = POLLIN };
		int dead;

		poll(&pfd, 1, 2000);
		dead = hv_domains_next_dead(doms);
		STEP("[dom0  ] domain death event: domain %d; port %d is now %s",
		     dead, port,
		     hv_evtchn_state(e, (evtchn_port_t)port) ==
				     HV_EVTCHN_PEER_CLOSED
			     ? "peer-closed"
			     : "UNEXPECTED");
		if (dead != m.domid)
			return 1;
	}
	snprintf(ctlpath, sizeof(ctlpath), "%s/loophvd.ctl",
		 opts.run_dir ? opts.run_dir : "/run/splitdrv");
	st = ctl_request(ctlpath, "stats", NULL, 2000);
	if (st) {
		json_t *ops =
			json_object_get(json_object_get(st, "result"), "ops");

		STEP("[loophvd] control ops served: evtchn_peer=%lld evtchn_bind=%lld domain_mem=%lld"
		     " (the %ld notifies never reached it)",
		     (long long)json_integer_value(
			     json_object_get(ops, "evtchn_peer")),
		     (long long)json_integer_value(
			     json_object_get(ops, "evtchn_bind")),
		     (long long)json_integer_value(
			     json_object_get(ops, "domain_mem")),
		     rounds * 2);
		json_decref(st);
	}
	hv_domains_close(doms);
	hv_evtchn_close(e);
	hv_gnttab_close(gt);
	hv_close(dom0);
	return 0;
}
