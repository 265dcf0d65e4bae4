/*
 * evtchn-pingpong - event-channel round trips between dom0 and a loopback
 * guest, against the same ping-pong over two raw eventfds.
 *
 *   evtchn-pingpong [--run-dir DIR] [--iters N] [--pin CPU] [--loophvd PATH]
 *
 * The benchmark starts its own loophvd (--run-dir DIR, default a mkdtemp
 * directory), forks a child that becomes a loop guest, and binds one
 * interdomain channel: dom0 allocates an unbound port for the guest and
 * passes it over a pipe, the guest binds it. A round trip is: dom0
 * notifies, the guest waits (poll on its handle's fd, pending, unmask) and
 * notifies back, dom0 waits the same way. The baseline does the same with
 * two eventfds (write; poll + read) between the same two processes, in
 * blocks alternating with the event-channel blocks so that other load on
 * the machine hits both alike. --pin CPU runs both processes on that one
 * CPU: no cross-CPU wakeups, much less noise on a VM.
 *
 * Exit status: 0 when both ran (whatever the ratio), 1 on error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define PP_DEFAULT_ITERS 100000
#define PP_TIMEOUT_MS    5000
#define PP_TARGET_RATIO  0.7
#define PP_BLOCKS        10 /* measured blocks, alternating raw and hv */

/* One direction of the raw baseline: poll, then read the counter. */
static int raw_wait(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t v;
	int rc;

	for (;;) {
		rc = poll(&pfd, 1, PP_TIMEOUT_MS);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		if (read(efd, &v, sizeof(v)) == sizeof(v))
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

static int raw_kick(int efd)
{
	uint64_t one = 1;

	return write(efd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

struct pp_setup {
	int to_child, from_child; /* pipes */
	int efd_ping, efd_pong;   /* raw baseline: dom0 -> guest, back */
	uint64_t warm, iters;
	const struct bench_hvd *hvd;
};

/*
 * The schedule both processes follow: block 0 is the warm-up, then
 * PP_BLOCKS measured blocks sharing iters; each block runs the raw path,
 * then the hv path. Alternating keeps a load change on the machine from
 * landing on one path only.
 */
static uint64_t pp_block_len(const struct pp_setup *s, unsigned int b)
{
	if (b == 0)
		return s->warm;
	if (b < PP_BLOCKS)
		return s->iters / PP_BLOCKS;
	return s->iters - (s->iters / PP_BLOCKS) * (PP_BLOCKS - 1);
}

/* n raw round trips; drive = kick first (dom0), else answer (guest). */
static int pp_raw(const struct pp_setup *s, uint64_t n, int drive)
{
	int kick = drive ? s->efd_ping : s->efd_pong;
	int wait = drive ? s->efd_pong : s->efd_ping;
	uint64_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (drive) {
			rc = raw_kick(kick);
			if (rc == 0)
				rc = raw_wait(wait);
		} else {
			rc = raw_wait(wait);
			if (rc == 0)
				rc = raw_kick(kick);
		}
	}
	if (rc < 0)
		fprintf(stderr, "%s: raw round trip: %s\n",
			drive ? "dom0" : "guest", strerror(-rc));
	return rc;
}

/* n event-channel round trips on port, as pp_raw. */
static int pp_hv(struct hv_evtchn *e, evtchn_port_t port, uint64_t n, int drive)
{
	uint64_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (drive) {
			rc = hv_evtchn_notify(e, port);
			if (rc == 0)
				rc = bench_evtchn_wait(e, port, PP_TIMEOUT_MS);
		} else {
			rc = bench_evtchn_wait(e, port, PP_TIMEOUT_MS);
			if (rc == 0)
				rc = hv_evtchn_notify(e, port);
		}
	}
	if (rc < 0)
		fprintf(stderr, "%s: evtchn round trip on port %u: %s\n",
			drive ? "dom0" : "guest", port, strerror(-rc));
	return rc;
}

/* The guest: become a loop domain, bind dom0's port, then answer the
 * schedule. Returns the exit status. */
static int pp_child(const struct pp_setup *s)
{
	struct hv_evtchn *e = NULL;
	struct hv *g = NULL;
	uint32_t domid, rport;
	int32_t lport;
	unsigned int b;

	g = bench_create_guest(s->hvd, "bench-pingpong");
	domid = g ? hv_domid(g) : UINT32_MAX;
	/* Tell dom0 our domid (or that we failed) either way. */
	if (bench_send(s->from_child, &domid, sizeof(domid)) < 0 || !g)
		goto fail;
	e = hv_evtchn_open(g);
	if (!e) {
		fprintf(stderr, "guest: hv_evtchn_open: %s\n", strerror(errno));
		goto fail_report;
	}
	if (bench_recv(s->to_child, &rport, sizeof(rport)) < 0)
		goto fail;
	lport = hv_evtchn_bind_interdomain(e, 0, rport);
	if (lport < 0)
		fprintf(stderr, "guest: hv_evtchn_bind_interdomain(0, %u): %s\n",
			rport, strerror(-lport));
	if (bench_send(s->from_child, &lport, sizeof(lport)) < 0 || lport < 0)
		goto fail;

	for (b = 0; b <= PP_BLOCKS; b++) {
		if (pp_raw(s, pp_block_len(s, b), 0) < 0 ||
		    pp_hv(e, (evtchn_port_t)lport, pp_block_len(s, b), 0) < 0)
			goto fail;
	}
	hv_evtchn_close(e);
	hv_close(g);
	return 0;

fail_report:
	lport = -1;
	bench_send(s->from_child, &lport, sizeof(lport));
fail:
	hv_evtchn_close(e);
	hv_close(g);
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: evtchn-pingpong [--run-dir DIR] [--iters N] [--pin CPU] "
		"[--loophvd PATH]\n"
		"  Round trips/s of a dom0 <-> loop guest event channel vs two "
		"raw eventfds.\n"
		"  loophvd: --loophvd, else $LOOPHVD, else "
		"../loophv/loophvd next to this binary.\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "run-dir", required_argument, NULL, 'd' },
		{ "iters", required_argument, NULL, 'n' },
		{ "loophvd", required_argument, NULL, 'l' },
		{ "pin", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run_dir = NULL, *hvd_path = NULL;
	uint64_t iters = PP_DEFAULT_ITERS, n, pin = UINT64_MAX;
	cpu_set_t cpus;
	int p2c[2] = { -1, -1 }, c2p[2] = { -1, -1 };
	struct pp_setup s = { .efd_ping = -1, .efd_pong = -1 };
	struct bench_hvd hvd;
	struct hv_evtchn *e = NULL;
	struct hv *dom0 = NULL;
	double t0, dt, t_raw = 0, t_hv = 0, best_raw = 0, best_hv = 0;
	double r_raw, r_hv;
	uint32_t domid, uport;
	int32_t gport;
	int c, port = -1, status, ret = 1;
	unsigned int b;
	pid_t child = -1;

	while ((c = getopt_long(argc, argv, "d:n:l:p:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			run_dir = optarg;
			break;
		case 'n':
			if (bench_parse_u64(optarg, &iters) < 0 ||
			    iters < PP_BLOCKS) {
				fprintf(stderr, "bad --iters (>= %d): %s\n",
					PP_BLOCKS, optarg);
				return 1;
			}
			break;
		case 'l':
			hvd_path = optarg;
			break;
		case 'p':
			if (bench_parse_u64(optarg, &pin) < 0 ||
			    pin >= CPU_SETSIZE) {
				fprintf(stderr, "bad --pin: %s\n", optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	s.iters = iters;
	s.warm = iters / 10 < 1000 ? iters / 10 : 1000;
	signal(SIGPIPE, SIG_IGN);
	if (pin != UINT64_MAX) {
		/* Inherited by the guest child (and loophvd). */
		CPU_ZERO(&cpus);
		CPU_SET((int)pin, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0) {
			fprintf(stderr, "--pin %llu: %s\n",
				(unsigned long long)pin, strerror(errno));
			return 1;
		}
	}

	if (bench_hvd_start(&hvd, hvd_path, run_dir) < 0)
		return 1;
	s.hvd = &hvd;
	s.efd_ping = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s.efd_pong = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s.efd_ping < 0 || s.efd_pong < 0 || pipe(p2c) < 0 || pipe(c2p) < 0) {
		perror("eventfd/pipe");
		goto out;
	}
	s.to_child = p2c[0];
	s.from_child = c2p[1];

	/* Fork before opening dom0: the guest must not share its socket. */
	child = fork();
	if (child < 0) {
		perror("fork");
		goto out;
	}
	if (child == 0) {
		close(p2c[1]);
		close(c2p[0]);
		_exit(pp_child(&s));
	}
	close(p2c[0]);
	close(c2p[1]);
	p2c[0] = c2p[1] = -1;

	/* Connect the channel: dom0 offers a port, the guest binds it. */
	dom0 = bench_open_dom0(&hvd);
	if (!dom0)
		goto out;
	e = hv_evtchn_open(dom0);
	if (!e) {
		fprintf(stderr, "dom0: hv_evtchn_open: %s\n", strerror(errno));
		goto out;
	}
	if (bench_recv(c2p[0], &domid, sizeof(domid)) < 0 ||
	    domid == UINT32_MAX) {
		fprintf(stderr, "dom0: the guest could not become a domain\n");
		goto out;
	}
	port = hv_evtchn_alloc_unbound(e, (domid_t)domid);
	if (port < 0) {
		fprintf(stderr, "dom0: hv_evtchn_alloc_unbound(%u): %s\n",
			domid, strerror(-port));
		goto out;
	}
	uport = (uint32_t)port;
	if (bench_send(p2c[1], &uport, sizeof(uport)) < 0 ||
	    bench_recv(c2p[0], &gport, sizeof(gport)) < 0 || gport < 0) {
		fprintf(stderr, "dom0: the guest could not bind port %d\n",
			port);
		goto out;
	}

	for (b = 0; b <= PP_BLOCKS; b++) {
		n = pp_block_len(&s, b);
		t0 = bench_now();
		if (pp_raw(&s, n, 1) < 0)
			goto out;
		dt = bench_now() - t0;
		if (b > 0) {
			t_raw += dt;
			if (best_raw < (double)n / dt)
				best_raw = (double)n / dt;
		}
		t0 = bench_now();
		if (pp_hv(e, (evtchn_port_t)port, n, 1) < 0)
			goto out;
		dt = bench_now() - t0;
		if (b > 0) {
			t_hv += dt;
			if (best_hv < (double)n / dt)
				best_hv = (double)n / dt;
		}
	}

	r_raw = (double)iters / t_raw;
	r_hv = (double)iters / t_hv;
	printf("evtchn ping-pong: dom0 <-> loop guest d%u, %llu round trips "
	       "per path in %d alternating blocks (+%llu warm-up)%s\n",
	       domid, (unsigned long long)iters, PP_BLOCKS,
	       (unsigned long long)s.warm,
	       pin != UINT64_MAX ? ", both on one CPU" : "");
	printf("%-34s %14s %10s %14s\n", "path", "round trips/s", "us/trip",
	       "best block/s");
	printf("%-34s %14.0f %10.2f %14.0f\n",
	       "raw eventfds (write; poll+read)", r_raw, 1e6 / r_raw, best_raw);
	printf("%-34s %14.0f %10.2f %14.0f\n",
	       "hv evtchn (notify; poll+pending)", r_hv, 1e6 / r_hv, best_hv);
	printf("ratio hv/raw: %.2f overall, %.2f best blocks "
	       "(target >= %.2f: %s)\n",
	       r_hv / r_raw, best_hv / best_raw, PP_TARGET_RATIO,
	       r_hv / r_raw >= PP_TARGET_RATIO ? "met" : "NOT met");
	ret = 0;

out:
	if (p2c[1] >= 0)
		close(p2c[1]); /* the guest sees EOF if it still waits */
	if (c2p[0] >= 0)
		close(c2p[0]);
	if (child > 0) {
		if (ret != 0)
			kill(child, SIGTERM);
		if (waitpid(child, &status, 0) == child && ret == 0 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			fprintf(stderr, "guest exited abnormally\n");
			ret = 1;
		}
	}
	hv_evtchn_close(e);
	hv_close(dom0);
	if (s.efd_ping >= 0)
		close(s.efd_ping);
	if (s.efd_pong >= 0)
		close(s.efd_pong);
	bench_hvd_stop(&hvd);
	return ret;
}
