/*
 * main.c - blkback, the block backend daemon.
 *
 * Serves /local/domain/<backend-domid>/backend/vbd/ from xenstore (Debian's
 * libxenstore: $XENSTORED_PATH or its default socket), maps the frontends'
 * rings through lib/hv.h (loop or xen), and does the I/O with io_uring on
 * files and block devices, or over NBD (see doc/blkback.md).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkback/blkback.h"
#include "ctl.h"
#include "daemon.h"
#include "log.h"

#define OPT_BACKEND_DOMID 0x2001
#define OPT_TYPE          0x2002
#define OPT_QUEUES        0x2003
#define OPT_NO_PERSISTENT 0x2004
#define OPT_NO_INDIRECT   0x2005
#define OPT_NO_DISCARD    0x2006
#define OPT_RING_ORDER    0x2007

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: blkback [OPTION]...\n"
		"The block backend of splitdrv: serves the virtual disks (vbd) that the\n"
		"toolstack (xl, libxl, splitctl block-attach) describes in xenstore under\n"
		"/local/domain/<backend-domid>/backend/vbd/, to the guests' blkfront,\n"
		"speaking Xen's blkif protocol (<xen/io/blkif.h>): read, write, flush,\n"
		"barrier, discard, indirect descriptors, persistent grants, multi-page\n"
		"rings and multi-queue; x86_32 and x86_64 ABIs.\n"
		"\n"
		"What each disk serves comes from its backend's params key, xl-style:\n"
		"  /path | file:/path | phy:/dev/sdX      a raw file or block device\n"
		"  nbd://host[:port][/export]             an NBD export over TCP\n"
		"  nbd+unix:///export?socket=/path        an NBD export over a unix socket\n"
		"and mode=r makes it read-only. An NBD server gets 5 s to accept and\n"
		"negotiate (on a worker thread: other disks are served meanwhile); the\n"
		"device stays Initialising until then, and its error key says why it failed.\n"
		"\n"
		"Options:\n"
		"      --backend-domid=N  serve backends of domain N (default 0)\n"
		"      --type=NAME        the backend type directory (default vbd)\n"
		"      --max-queues=N     multi-queue-max-queues offered (default 4, 1..16)\n"
		"      --max-ring-order=N max-ring-page-order offered (default 4, 0..4)\n"
		"      --no-persistent    do not offer persistent grants\n"
		"      --no-indirect      do not offer indirect descriptors\n"
		"      --no-discard       do not offer discard\n");
	daemon_usage_common(f);
	fprintf(f,
		"\n"
		"Control socket: <run-dir>/blkback.ctl, JSON: {\"cmd\":\"status\"} (devices),\n"
		"{\"cmd\":\"stats\"} (per-device requests by op, bytes, errors, in-flight,\n"
		"latency histogram).\n"
		"Environment: XENSTORED_PATH, the xenstored socket.\n"
		"A guest domain that dies (the hypervisor's event) has its disks released\n"
		"at once: rings, grants and ports let go, the backing closed, the backend\n"
		"Closed; the toolstack then removes the directories (splitctl monitor).\n"
		"Signals: SIGTERM/SIGINT stop (devices disconnect, I/O drains), SIGHUP\n"
		"reopens the log.\n");
}

/* status_fn - every device with its state and stats (status and stats
 * answer the same) */
static int status_fn(void *arg, json_t *obj)
{
	struct blkbk *bk = arg;

	xbe_host_devices(&bk->h, obj, bk->cfg.backend_domid, bk->cfg.type,
			 blkbk_vbd_json);
	return 0;
}

static int parse_uint_opt(const char *name, const char *s, unsigned long min,
			  unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, "blkback: --%s: '%s' is not in %lu..%lu\n",
			name, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		DAEMON_COMMON_LONGOPTS,
		{ "backend-domid", required_argument, NULL, OPT_BACKEND_DOMID },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "max-queues", required_argument, NULL, OPT_QUEUES },
		{ "max-ring-order", required_argument, NULL, OPT_RING_ORDER },
		{ "no-persistent", no_argument, NULL, OPT_NO_PERSISTENT },
		{ "no-indirect", no_argument, NULL, OPT_NO_INDIRECT },
		{ "no-discard", no_argument, NULL, OPT_NO_DISCARD },
		{ NULL, 0, NULL, 0 },
	};
	struct blkbk bk = { .cfg = { .type = "vbd",
				     .max_queues = 4,
				     .max_ring_order = BLKBK_MAX_RING_ORDER } };
	struct daemon_opts o;
	struct daemon_run dr;
	unsigned long v;
	int opt, r, rc = EXIT_FAILURE;

	daemon_opts_init(&o, "blkback");
	while ((opt = getopt_long(argc, argv, DAEMON_COMMON_SHORTOPTS, longopts,
				  NULL)) != -1) {
		switch (opt) {
		case OPT_BACKEND_DOMID:
			if (parse_uint_opt("backend-domid", optarg, 0,
					   DOMID_FIRST_RESERVED - 1, &v))
				return 2;
			bk.cfg.backend_domid = (domid_t)v;
			continue;
		case OPT_TYPE:
			if (!*optarg || strchr(optarg, '/') ||
			    strlen(optarg) > 16) {
				fprintf(stderr, "blkback: --type: bad name\n");
				return 2;
			}
			bk.cfg.type = optarg;
			continue;
		case OPT_QUEUES:
			if (parse_uint_opt("max-queues", optarg, 1,
					   BLKBK_MAX_QUEUES, &v))
				return 2;
			bk.cfg.max_queues = (unsigned int)v;
			continue;
		case OPT_RING_ORDER:
			if (parse_uint_opt("max-ring-order", optarg, 0,
					   BLKBK_MAX_RING_ORDER, &v))
				return 2;
			bk.cfg.max_ring_order = (unsigned int)v;
			continue;
		case OPT_NO_PERSISTENT:
			bk.cfg.no_persistent = 1;
			continue;
		case OPT_NO_INDIRECT:
			bk.cfg.no_indirect = 1;
			continue;
		case OPT_NO_DISCARD:
			bk.cfg.no_discard = 1;
			continue;
		}
		r = daemon_common_opt(&o, opt, optarg, usage);
		if (r >= 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "blkback: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (daemon_start(&dr, &o) < 0)
		return EXIT_FAILURE;
	if (xbe_host_open(&bk.h, dr.base, &o, bk.cfg.backend_domid, bk.cfg.type,
			  &blkbk_vbd_ops, &bk, "disks") < 0)
		goto out;
	if (daemon_control(&dr, status_fn, status_fn, &bk) < 0)
		goto out;
	log_notice("serving /local/domain/%u/backend/%s (hv %s)",
		   bk.cfg.backend_domid, bk.cfg.type,
		   hv_provider_name(hv_provider(bk.h.hv)));
	if (daemon_serve(&dr, "serving") == 0)
		rc = EXIT_SUCCESS;
out:
	/* Devices are freed by xbe_free(); I/O in flight was given the loop's
	 * last turn above. */
	xbe_host_close(&bk.h); /* devices removed: xbe_free() */
	/* opens still under way were cancelled by xbe_free(): wait for their
	 * workers (each bounded by its timeout) */
	if (blkbk_backing_open_pending())
		log_info("waiting for %u backing open(s) to give up",
			 blkbk_backing_open_pending());
	blkbk_backing_open_drain();
	daemon_finish(&dr); /* control socket, signals, loop, lock */
	return rc;
}
