/*
 * main.c - netback, the network backend daemon.
 *
 * Serves /local/domain/<backend-domid>/backend/vif/ from xenstore
 * (Debian's libxenstore: $XENSTORED_PATH or its default socket): one TAP
 * per vif on the host, the guests' netif rings through lib/hv.h (loop or
 * xen). See doc/netback.md.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "netback/vif.h"

#define OPT_BACKEND_DOMID 0x2001
#define OPT_TYPE          0x2002
#define OPT_QUEUES        0x2003

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: netback [OPTION]...\n"
		"The network backend of splitdrv: serves the virtual interfaces (vif)\n"
		"that the toolstack describes in xenstore under\n"
		"/local/domain/<backend-domid>/backend/vif/, to the guests' netfront,\n"
		"speaking Xen's netif protocol (<xen/io/netif.h>): rx-copy, scatter-\n"
		"gather, checksum and GSO offload, multi-queue, split event channels.\n"
		"Each vif is a TAP named vif<domid>.<handle> on the host, created before\n"
		"the device reaches InitWait and brought up; the hotplug script (or the\n"
		"administrator) puts it in a bridge.\n"
		"\n"
		"Options:\n"
		"      --backend-domid=N  serve backends of domain N (default 0)\n"
		"      --type=NAME        the backend type directory (default vif)\n"
		"      --max-queues=N     multi-queue-max-queues offered (default 4, 1..16)\n");
	daemon_usage_common(f);
	fprintf(f,
		"\n"
		"Control socket: <run-dir>/netback.ctl, JSON: {\"cmd\":\"status\"} (vifs),\n"
		"{\"cmd\":\"stats\"} (per vif: packets and bytes each way, GSO packets,\n"
		"drops by cause, RX waits for buffers, halts).\n"
		"Environment: XENSTORED_PATH, the xenstored socket.\n"
		"Needs /dev/net/tun and CAP_NET_ADMIN.\n"
		"A guest domain that dies has its vifs released at once.\n"
		"Signals: SIGTERM/SIGINT stop (vifs disconnect), SIGHUP reopens the log.\n");
}

/* status_fn - every device with its state and stats (status and stats
 * answer the same) */
static int status_fn(void *arg, json_t *obj)
{
	struct netbk *nb = arg;

	xbe_host_devices(&nb->h, obj, nb->cfg.backend_domid, nb->cfg.type,
			 netbk_vif_json);
	return 0;
}

/* parse_opt - one of netback's own options; 0, or 2 (bad usage) */
static int parse_opt(struct netbk_config *c, int opt, const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	switch (opt) {
	case OPT_BACKEND_DOMID:
		if (!*arg || *end || v >= DOMID_FIRST_RESERVED)
			break;
		c->backend_domid = (domid_t)v;
		return 0;
	case OPT_TYPE:
		if (!*arg || strchr(arg, '/') || strlen(arg) > 16)
			break;
		c->type = arg;
		return 0;
	case OPT_QUEUES:
		if (!*arg || *end || v < 1 || v > NETBK_MAX_QUEUES)
			break;
		c->max_queues = (unsigned int)v;
		return 0;
	}
	fprintf(stderr, "netback: bad value '%s' (see --help)\n", arg);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		DAEMON_COMMON_LONGOPTS,
		{ "backend-domid", required_argument, NULL, OPT_BACKEND_DOMID },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "max-queues", required_argument, NULL, OPT_QUEUES },
		{ NULL, 0, NULL, 0 },
	};
	struct netbk nb = { .cfg = { .type = "vif", .max_queues = 4 } };
	struct daemon_opts o;
	struct daemon_run dr;
	int opt, r, rc = EXIT_FAILURE;

	daemon_opts_init(&o, "netback");
	while ((opt = getopt_long(argc, argv, DAEMON_COMMON_SHORTOPTS, longopts,
				  NULL)) != -1) {
		if (opt >= OPT_BACKEND_DOMID && opt <= OPT_QUEUES) {
			if (parse_opt(&nb.cfg, opt, optarg))
				return 2;
		} else if ((r = daemon_common_opt(&o, opt, optarg, usage)) >= 0) {
			return r;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netback: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (daemon_start(&dr, &o) < 0)
		return EXIT_FAILURE;
	if (xbe_host_open(&nb.h, dr.base, &o, nb.cfg.backend_domid, nb.cfg.type,
			  &netbk_vif_ops, &nb, "vifs") < 0 ||
	    daemon_control(&dr, status_fn, status_fn, &nb) < 0)
		goto out;
	log_notice("serving /local/domain/%u/backend/%s (hv %s)",
		   nb.cfg.backend_domid, nb.cfg.type,
		   hv_provider_name(hv_provider(nb.h.hv)));
	if (daemon_serve(&dr, "serving") == 0)
		rc = EXIT_SUCCESS;
out:
	xbe_host_close(&nb.h); /* every vif disconnected, its TAP closed */
	daemon_finish(&dr);
	return rc;
}
