/*
 * loopguest - a loopback guest domain: a process whose RAM is a memfd,
 * with a xenstore ring as a guest kernel's xenbus has, and a block
 * frontend whose disk it exports over NBD.
 *
 *   loopguest [--run-dir DIR] [--name NAME] [--mem MIB] [--hold]
 *             [-x "OP ARGS"]... [--disk VDEV --nbd SOCKET | --nic HANDLE]
 *
 * It prints "domid N" first, then runs each -x operation over its ring in
 * order (they wait until a toolstack has introduced the domain), printing
 * one line per result, and exits -- unless --hold, which keeps the domain
 * alive until SIGTERM/SIGINT, or --disk: then it waits for the toolstack
 * to attach VDEV, connects blkfront (tools/blkfront.c), serves the disk
 * on SOCKET (tools/nbd-server.c) and prints "disk VDEV connected: N
 * sectors, nbd SOCKET"; when the toolstack detaches the disk it prints
 * "disk VDEV detached" and waits for the next attach, until SIGTERM; an
 * attach the backend fails prints "error disk VDEV: ..." and is waited out
 * the same way. --nic HANDLE does the same for vif HANDLE with netfront
 * (tools/netfront.c): the guest's interface is a TAP (--nic-tap, in the
 * process's network namespace), "nic HANDLE connected: IFNAME ..." once
 * traffic flows, "nic HANDLE detached" when the toolstack took it away.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hv.h"
#include "log.h"
#include "tools/blkfront.h"
#include "tools/nbd-server.h"
#include "tools/netfront.h"
#include "xs-guest.h"

#define IFNAMSIZ_   16 /* <net/if.h>'s IFNAMSIZ */
#define STORE_FRAME 1  /* the guest's xenstore page, a reserved frame */

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
		"      --mem=MIB        RAM in MiB (default 16; 64 with --disk)\n"
		"  -x, --xs=\"OP ARGS\"   a xenstore operation, repeatable, run in order:\n"
		"                         read PATH | write PATH VALUE | rm PATH |\n"
		"                         mkdir PATH | ls PATH | watch PATH | domain-path\n"
		"                       (PATH may be relative to the domain's home)\n"
		"      --timeout=SEC    how long one operation may wait (default 30; the\n"
		"                       first waits for the toolstack's XS_INTRODUCE)\n"
		"      --hold           keep the domain alive after the operations, until\n"
		"                       SIGTERM or SIGINT\n"
		"      --disk=VDEV      after the operations, wait for the toolstack to\n"
		"                       attach VDEV (xvda, hdb, sdc, or a vbd number; e.g.\n"
		"                       splitctl block-attach DOMID TARGET VDEV), connect\n"
		"                       to its backend as Linux's blkfront does (persistent\n"
		"                       grants, indirect segments, multi-page rings,\n"
		"                       multi-queue, as far as the backend offers them)\n"
		"                       and serve the disk until SIGTERM or SIGINT; a\n"
		"                       detach closes it and the next attach reconnects\n"
		"      --nbd=SOCKET     with --disk: export the disk as an NBD server on\n"
		"                       the unix socket SOCKET (export name \"\" or VDEV;\n"
		"                       e.g. qemu-io nbd+unix:///?socket=SOCKET)\n"
		"      --queues=N       ask for up to N queues (default 2, 1..16)\n"
		"      --ring-order=N   ask for rings of up to 2^N pages (default 2, 0..4)\n"
		"      --pool=PAGES     granted data pages per queue (default 1024)\n"
		"      --no-persistent  do not use persistent grants\n"
		"      --no-indirect    do not use indirect segments\n"
		"      --nic=HANDLE     after the operations, wait for the toolstack to\n"
		"                       attach vif HANDLE, connect to its backend as\n"
		"                       Linux's netfront does (scatter-gather, checksum\n"
		"                       and GSO offload, multi-queue, split event\n"
		"                       channels, as far as the backend offers them) and\n"
		"                       carry the guest's traffic through a TAP in this\n"
		"                       process's network namespace, until SIGTERM\n"
		"      --nic-tap=NAME   the guest's TAP (default eth0)\n"
		"      --nic-queues=N   ask for up to N queues (default 1, 1..8)\n"
		"      --nic-no-sg, --nic-no-gso, --nic-no-csum, --nic-no-split\n"
		"                       do not use scatter-gather / GSO / checksum\n"
		"                       offload / split event channels\n"
		"  -v, --verbose        log negotiation and NBD clients (to stderr)\n"
		"  -h, --help           this help\n"
		"\n"
		"Output: \"domid N\" and \"store-port P\" first, then one line per operation:\n"
		"\"ok OP: RESULT\" or \"error OP: ERRNO-NAME\"; with --disk, \"disk VDEV\n"
		"connected: N sectors, nbd SOCKET\" once the export is ready (N in 512-byte\n"
		"units), \"disk VDEV detached\" when the toolstack took it away.\n"
		"Exit status 1 if any operation failed or the disk could not be connected,\n"
		"2 on bad usage.\n");
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

/* ------------------------------------------------------------------ */
/* --disk: blkfront exported over NBD                                  */
/* ------------------------------------------------------------------ */

static int disk_read(void *arg, uint64_t off, void *buf, size_t len)
{
	return blkfront_read(arg, off, buf, len);
}

static int disk_write(void *arg, uint64_t off, const void *buf, size_t len)
{
	return blkfront_write(arg, off, buf, len);
}

static int disk_flush(void *arg)
{
	return blkfront_flush(arg);
}

static int disk_trim(void *arg, uint64_t off, uint64_t len)
{
	return blkfront_discard(arg, off, len);
}

static const struct nbds_disk_ops disk_ops = {
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
	.trim = disk_trim,
};

struct serve {
	struct event_base *base;
	struct xsg *xs;
	struct blkfront *bf;
	int detached;
};

/* loopguest_on_tick - SIGTERM, and xenstore watch events (the backend
 * closing the disk), checked every 100 ms: xsg reads its ring without
 * blocking. */
static void loopguest_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct serve *sv = arg;
	char *path, *token;

	(void)fd;
	(void)what;
	if (stop) {
		event_base_loopbreak(sv->base);
		return;
	}
	while (xsg_next_watch(sv->xs, &path, &token) == 0) {
		if (blkfront_on_watch(sv->bf, path, token) == 1)
			sv->detached = 1;
		free(path);
		free(token);
	}
	if (sv->detached)
		event_base_loopbreak(sv->base);
}

/* log_stats - what one connection of the disk did (with -v). */
static void log_stats(const char *vdev, const struct blkfront *bf,
		      const struct nbds *srv)
{
	struct blkfront_stats b;
	struct nbds_stats n;

	blkfront_get_stats(bf, &b);
	nbds_get_stats(srv, &n);
	log_info("disk %s: %llu requests (%llu indirect), %llu segments, "
		 "%llu notifies, %llu errors, grants %llu revoked %llu leaked, "
		 "%llu indirect responses answered as INDIRECT; "
		 "nbd: %llu clients (%llu dropped), %llu requests, %llu errors, "
		 "%llu bytes read, %llu written",
		 vdev, (unsigned long long)b.reqs,
		 (unsigned long long)b.indirect_reqs, (unsigned long long)b.segs,
		 (unsigned long long)b.notifies, (unsigned long long)b.errors,
		 (unsigned long long)b.grants_revoked,
		 (unsigned long long)b.grants_leaked,
		 (unsigned long long)b.rsp_op_indirect,
		 (unsigned long long)n.clients, (unsigned long long)n.dropped,
		 (unsigned long long)n.requests, (unsigned long long)n.errors,
		 (unsigned long long)n.bytes_read,
		 (unsigned long long)n.bytes_written);
}

/*
 * wait_removed - until the toolstack removed the device devid of ours (its
 * "backend" node is gone), after an attach that failed: the next attach
 * is a new device. 0, or -EINTR when stopped.
 */
static int wait_removed(struct hv *hv, struct xsg *xs, uint32_t devid,
			int xs_timeout_ms)
{
	char fe[96], path[128], *v, *p, *t;
	int full = xs_timeout_ms > 0 ? xs_timeout_ms : 10000;
	int r;

	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%u", hv_domid(hv),
		 devid);
	snprintf(path, sizeof(path), "%s/backend", fe);
	/* requests get the full timeout; only the wait for an event ticks
	 * every 200 ms, to see a stop */
	xsg_set_timeout(xs, full);
	xsg_watch(xs, fe, "loopguest-removed");
	while (!stop) {
		xsg_set_timeout(xs, full);
		r = xsg_read(xs, 0, path, &v);
		if (r == -ENOENT)
			break;
		if (r == 0)
			free(v);
		xsg_set_timeout(xs, 200);
		if (xsg_wait_watch(xs, &p, &t) == 0) {
			free(p);
			free(t);
		}
	}
	xsg_set_timeout(xs, full);
	xsg_unwatch(xs, fe, "loopguest-removed");
	return stop ? -EINTR : 0;
}

/* serve_disk - attach, export, serve; again after each detach. 0 when
 * stopped by a signal, 1 on failure. */
static int serve_disk(struct hv *hv, struct xsg *xs, const char *vdev,
		      uint32_t devid, const char *sock,
		      const struct blkfront_opts *bo)
{
	struct serve sv = { .xs = xs };
	struct event *tick;
	struct timeval tv = { 0, 100000 };
	int rc = 0;

	sv.base = event_base_new();
	if (!sv.base)
		return 1;
	tick = event_new(sv.base, -1, EV_PERSIST, loopguest_on_tick, &sv);
	if (!tick) {
		event_base_free(sv.base);
		return 1;
	}
	while (!stop) {
		const struct blkfront_info *in;
		struct nbds_export exp = { 0 };
		struct nbds *srv;
		char desc[160];

		sv.bf = blkfront_connect(hv, xs, devid, bo);
		if (!sv.bf) {
			int e = errno;

			if (e == EINTR)
				break;
			printf("error disk %s: %s\n", vdev, strerror(e));
			fflush(stdout);
			/* ENODEV: the backend gave up on this attach (or it
			 * was removed): wait for the next one, as a Linux
			 * guest's blkfront would */
			if (e == ENODEV &&
			    wait_removed(hv, xs, devid, bo->xs_timeout_ms) == 0)
				continue;
			rc = 1;
			break;
		}
		in = blkfront_info(sv.bf);
		snprintf(desc, sizeof(desc), "%s of domain %u (backend %s)",
			 vdev, hv_domid(hv), in->backend);
		exp.name = vdev;
		exp.description = desc;
		exp.size = in->size;
		exp.block_size = in->sector_size;
		exp.readonly = in->readonly;
		exp.can_flush = in->flush || in->barrier;
		exp.can_trim = in->discard;
		exp.ops = &disk_ops;
		exp.arg = sv.bf;
		srv = nbds_new(sv.base, sock, &exp, 0);
		if (!srv) {
			printf("error disk %s: nbd socket %s: %s\n", vdev, sock,
			       strerror(errno));
			fflush(stdout);
			blkfront_free(sv.bf);
			rc = 1;
			break;
		}
		printf("disk %s connected: %llu sectors, nbd %s\n", vdev,
		       (unsigned long long)in->sectors, sock);
		fflush(stdout);
		sv.detached = 0;
		event_add(tick, &tv);
		event_base_dispatch(sv.base);
		event_del(tick);
		log_stats(vdev, sv.bf, srv);
		nbds_free(srv);
		/* let libevent finish closing the clients' sockets */
		event_base_loop(sv.base, EVLOOP_NONBLOCK);
		blkfront_free(sv.bf);
		sv.bf = NULL;
		if (sv.detached) {
			printf("disk %s detached\n", vdev);
			fflush(stdout);
		}
	}
	event_free(tick);
	event_base_free(sv.base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* --nic: netfront behind a TAP                                        */
/* ------------------------------------------------------------------ */

struct nic_serve {
	struct event_base *base;
	struct xsg *xs;
	struct netfront *nf;
	int detached;
};

/* nic_on_tick - SIGTERM, and the backend closing the vif (watches) */
static void nic_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct nic_serve *sv = arg;
	char *path, *token;

	(void)fd;
	(void)what;
	while (!stop && xsg_next_watch(sv->xs, &path, &token) == 0) {
		if (netfront_on_watch(sv->nf, path, token) == 1)
			sv->detached = 1;
		free(path);
		free(token);
	}
	if (stop || sv->detached)
		event_base_loopbreak(sv->base);
}

/* serve_nic - attach, carry traffic; again after each detach. 0 when
 * stopped by a signal, 1 on failure. */
static int serve_nic(struct hv *hv, struct xsg *xs, uint32_t handle,
		     const struct netfront_opts *no)
{
	struct nic_serve sv = { .xs = xs };
	struct timeval tv = { 0, 100000 };
	struct event *tick;
	int rc = 0;

	sv.base = event_base_new();
	tick = sv.base ? event_new(sv.base, -1, EV_PERSIST, nic_on_tick, &sv)
		       : NULL;
	if (!tick)
		return 1;
	while (!stop) {
		const struct netfront_info *in;
		struct netfront_stats st;

		sv.nf = netfront_connect(hv, xs, sv.base, handle, no);
		if (!sv.nf) {
			if (errno != EINTR) {
				printf("error nic %u: %s\n", handle,
				       strerror(errno));
				rc = 1;
			}
			break;
		}
		in = netfront_info(sv.nf);
		printf("nic %u connected: %s %02x:%02x:%02x:%02x:%02x:%02x, "
		       "%u queue(s)%s%s%s%s\n",
		       handle, in->ifname, in->mac[0], in->mac[1], in->mac[2],
		       in->mac[3], in->mac[4], in->mac[5], in->nr_queues,
		       in->split ? ", split" : "", in->sg ? ", sg" : "",
		       in->gso ? ", gso" : "", in->csum ? ", csum" : "");
		fflush(stdout);
		sv.detached = 0;
		event_add(tick, &tv);
		event_base_dispatch(sv.base);
		event_del(tick);
		netfront_get_stats(sv.nf, &st);
		log_info("nic %u: tx %llu packets %llu bytes %llu errors "
			 "(%llu ring full), rx %llu packets %llu bytes "
			 "(%llu gso) %llu errors",
			 handle, (unsigned long long)st.tx_packets,
			 (unsigned long long)st.tx_bytes,
			 (unsigned long long)st.tx_errors,
			 (unsigned long long)st.tx_ring_full,
			 (unsigned long long)st.rx_packets,
			 (unsigned long long)st.rx_bytes,
			 (unsigned long long)st.rx_gso,
			 (unsigned long long)st.rx_errors);
		netfront_free(sv.nf);
		sv.nf = NULL;
		if (!sv.detached)
			break;
		printf("nic %u detached\n", handle);
		fflush(stdout);
	}
	event_free(tick);
	event_base_free(sv.base);
	return rc;
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
		{ "disk", required_argument, NULL, 'D' },
		{ "nbd", required_argument, NULL, 'N' },
		{ "queues", required_argument, NULL, 'Q' },
		{ "ring-order", required_argument, NULL, 'R' },
		{ "pool", required_argument, NULL, 'P' },
		{ "no-persistent", no_argument, NULL, 'p' },
		{ "no-indirect", no_argument, NULL, 'i' },
		{ "nic", required_argument, NULL, 0x100 },
		{ "nic-tap", required_argument, NULL, 0x101 },
		{ "nic-queues", required_argument, NULL, 0x102 },
		{ "nic-no-sg", no_argument, NULL, 0x103 },
		{ "nic-no-gso", no_argument, NULL, 0x104 },
		{ "nic-no-csum", no_argument, NULL, 0x105 },
		{ "nic-no-split", no_argument, NULL, 0x106 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hv_open_opts o = { .provider = HV_PROVIDER_LOOP };
	struct hv_domain_create cfg = { .mem_bytes = 16 << 20,
					.name = "loopguest" };
	char **ops = calloc((size_t)argc + 1, sizeof(char *));
	int nops = 0, hold = 0, timeout = 30, opt, failed = 0, verbose = 0;
	int mem_set = 0;
	struct blkfront_opts bo = { .max_ring_order = -1U };
	const char *disk = NULL, *sock = NULL;
	uint32_t devid = 0;
	struct netfront_opts no = { .max_queues = 1 };
	long nic = -1;
	unsigned long v;
	struct sigaction sa = { .sa_handler = on_signal };
	struct hv *hv;
	struct xsg *x;

	if (!ops)
		return 1;
	while ((opt = getopt_long(argc, argv, "x:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			o.run_dir = optarg;
			break;
		case 'n':
			cfg.name = optarg;
			break;
		case 'm':
			cfg.mem_bytes = strtoull(optarg, NULL, 10) << 20;
			mem_set = 1;
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
		case 'D':
			disk = optarg;
			if (blkfront_vdev_to_devid(disk, &devid) < 0) {
				fprintf(stderr,
					"loopguest: --disk: '%s' is not a "
					"virtual device name\n",
					disk);
				return 2;
			}
			break;
		case 'N':
			sock = optarg;
			break;
		case 'Q':
		case 'R':
		case 'P':
			v = strtoul(optarg, NULL, 10);
			if ((opt == 'Q' && (v < 1 || v > BLKFRONT_MAX_QUEUES)) ||
			    (opt == 'R' && v > BLKFRONT_MAX_RING_ORDER) ||
			    (opt == 'P' && (v < 1 || v > 8192))) {
				fprintf(stderr, "loopguest: bad --%s\n",
					opt == 'Q'   ? "queues"
					: opt == 'R' ? "ring-order"
						     : "pool");
				return 2;
			}
			if (opt == 'Q')
				bo.max_queues = (unsigned int)v;
			else if (opt == 'R')
				bo.max_ring_order = (unsigned int)v;
			else
				bo.pool_pages = (unsigned int)v;
			break;
		case 'p':
			bo.no_persistent = 1;
			break;
		case 'i':
			bo.no_indirect = 1;
			break;
		case 0x100:
		case 0x102:
			v = strtoul(optarg, NULL, 10);
			if ((opt == 0x100 && v > 0xffff) ||
			    (opt == 0x102 &&
			     (v < 1 || v > NETFRONT_MAX_QUEUES))) {
				fprintf(stderr, "loopguest: bad --%s\n",
					opt == 0x100 ? "nic" : "nic-queues");
				return 2;
			}
			if (opt == 0x100)
				nic = (long)v;
			else
				no.max_queues = (unsigned int)v;
			break;
		case 0x101:
			if (strlen(optarg) >= IFNAMSIZ_ || !*optarg) {
				fprintf(stderr, "loopguest: bad --nic-tap\n");
				return 2;
			}
			no.ifname = optarg;
			break;
		case 0x103:
			no.no_sg = 1;
			break;
		case 0x104:
			no.no_gso = 1;
			break;
		case 0x105:
			no.no_csum = 1;
			break;
		case 0x106:
			no.no_split = 1;
			break;
		case 'v':
			verbose = 1;
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
		fprintf(stderr, "loopguest: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (disk && nic >= 0) {
		fprintf(stderr, "loopguest: --disk or --nic, not both\n");
		return 2;
	}
	if (!disk != !sock) {
		fprintf(stderr, "loopguest: --disk and --nbd go together\n");
		return 2;
	}
	log_open("loopguest", LOG_TO_STDERR);
	log_set_level(verbose ? LOG_DEBUG : LOG_WARNING);
	if (disk || nic >= 0) {
		/* room for the pools of granted pages of each queue */
		cfg.grant_frames = 32;
		if (!mem_set)
			cfg.mem_bytes = 64 << 20;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* an NBD client that went away: EPIPE */
	hv = hv_domain_create(&o, &cfg);
	if (!hv) {
		fprintf(stderr, "loopguest: cannot become a domain: %s\n",
			strerror(errno));
		return 1;
	}
	x = xsg_open(hv, STORE_FRAME, 0);
	if (!x) {
		fprintf(stderr, "loopguest: xenstore ring: %s\n",
			strerror(errno));
		return 1;
	}
	xsg_set_timeout(x, timeout * 1000);
	printf("domid %u\nstore-port %u\n", hv_domid(hv), xsg_port(x));
	fflush(stdout);
	for (int i = 0; i < nops && !stop; i++)
		if (run_op(x, hv_domid(hv), ops[i]) < 0)
			failed = 1;
	if (disk && !stop) {
		bo.stop = &stop;
		bo.timeout_ms = 30000;
		bo.xs_timeout_ms = timeout * 1000;
		if (serve_disk(hv, x, disk, devid, sock, &bo))
			failed = 1;
	}
	if (nic >= 0 && !stop) {
		no.stop = &stop;
		no.xs_timeout_ms = timeout * 1000;
		if (serve_nic(hv, x, (uint32_t)nic, &no))
			failed = 1;
	}
	while (hold && !stop)
		pause();
	xsg_close(x);
	hv_close(hv); /* the domain dies */
	free(ops);
	return failed;
}
