/*
 * main.c - xenstored: the store daemon.
 *
 * Serves the xenstore protocol on a unix socket (--socket, else
 * $XENSTORED_PATH, else /run/xenstored/socket), read-only on <socket>_ro
 * (--socket-ro) and, with --hv, on the rings
 * of introduced domains (ring.c), keeps its state in
 * <run-dir>/xenstored.{db,journal} (see persist.c) and answers "status",
 * "stats" and "memreport" on <run-dir>/xenstored.ctl.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "hv.h"
#include "xenstored/conn.h"
#include "xenstored/control.h"
#include "xenstored/domain.h"
#include "xenstored/lu.h"
#include "xenstored/ops.h"
#include "xenstored/persist.h"
#include "xenstored/ring.h"
#include "xenstored/sock.h"
#include "xenstored/xenstored.h"

#define DEFAULT_SOCKET     "/run/xenstored/socket"
#define OPT_SOCKET         0x2001
#define OPT_QUOTA          0x2002
#define OPT_NO_PERSIST     0x2003
#define OPT_SOCKET_RO      0x2004
#define OPT_OUTPUT_MAX     0x2005
#define DEFAULT_OUTPUT_MAX (16u << 20)
#define OPT_FSYNC          0x2006
#define OPT_LIVE_UPDATE    0x2007
#define LU_STATE_FILE      "xenstored.lu-state"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xenstored [OPTION]...\n"
		"The xenstore daemon of splitdrv: a hierarchical store of small values\n"
		"shared by dom0's tools and the guests, with watches, transactions and\n"
		"permissions, speaking Xen's xs_wire.h protocol.\n"
		"\n"
		"  -s, --socket=PATH      unix socket to serve (default: $XENSTORED_PATH,\n"
		"                         else " DEFAULT_SOCKET ")\n"
		"      --socket-ro=PATH   also serve a read-only socket there (mode 0660:\n"
		"                         reads and watches only, anything that writes\n"
		"                         gets EACCES); default: the socket's path with\n"
		"                         \"_ro\" appended, as C xenstored had it; empty:\n"
		"                         none\n"
		"      --socket-output-max=BYTES\n"
		"                         bound on the replies and watch events queued\n"
		"                         for one socket client (default 16777216; 0:\n"
		"                         none): past it, its requests wait, and a watch\n"
		"                         event past it drops the client (logged)\n"
		"  -Q, --quota=NAME=VAL   set a quota (repeatable); names and defaults:\n"
		"                           nodes=1000 watches=128 transactions=10\n"
		"                           outstanding=20 transaction-nodes=1024\n"
		"                           node-size=2048 path-max=2048\n"
		"                           permissions=5 memory=2621440 (C xenstored's\n"
		"                           names; memory: bytes of nodes a domain owns,\n"
		"                           ENOMEM past it),\n"
		"                           output=2097152 (ours: bytes of watch events\n"
		"                           queued for a domain; past it, its ring is\n"
		"                           quarantined)\n"
		"                         quotas apply to unprivileged domains only\n"
		"      --no-persist       keep the store in memory only (nothing survives\n"
		"                         a restart)\n"
		"      --fsync            sync the journal (fdatasync) before each reply\n"
		"                         to a change: for a run directory on a disk,\n"
		"                         where an acknowledged change must survive a\n"
		"                         host crash (a tmpfs needs none)\n"
		"      --live-update=FILE (set by live update, not by hand) start\n"
		"                         from the state FILE of the xenstored this\n"
		"                         process replaces, instead of the snapshot\n"
		"                         and journal; stays in the foreground\n");
	daemon_usage_common(f);
	fprintf(f,
		"\n"
		"Files (in the run directory):\n"
		"  xenstored.db, xenstored.journal   the store's state: every node,\n"
		"                         permission and introduced domain survives a\n"
		"                         restart or a crash (watches and transactions of\n"
		"                         socket clients do not)\n"
		"  xenstored.ctl          JSON control socket: status, stats, memreport\n"
		"\n"
		"  xenstored.lu-state     a live update's state, while it runs\n"
		"\n"
		"Signals: SIGTERM/SIGINT write a snapshot and exit; SIGHUP reopens logs.\n"
		"XS_CONTROL (xenstore-control): check, help, live-update, log, memreport,\n"
		"print, quota. `xenstore-control live-update /usr/sbin/xenstored` replaces\n"
		"the running binary: clients and guests keep their connections and\n"
		"watches (open transactions fail with EAGAIN; without -F it waits for\n"
		"them).\n"
		"With --hv, introduced domains are served on their xenstore ring (and, on\n"
		"Xen, dom0's own ring); without it, XS_INTRODUCE records the domain and\n"
		"fires @introduceDomain but maps no ring.\n");
}

struct xsd {
	struct xs_store st;
	struct xs_persist *persist; /* NULL with --no-persist */
	struct event_base *base;
	struct xs_sock *sock, *sock_ro;
	struct hv *hv;
	struct xs_ring *ring;
	const char *socket_path;
	char *socket_ro_path; /* NULL: none */
	uint64_t started_ms;
	int argc; /* the command line, for a live update's exec */
	char **argv;
};

/* Live update's view of our sockets (lu.h). */
static int xsd_conn_fd(void *arg, const struct xs_conn *c)
{
	(void)arg;
	return xs_sock_conn_fd(c);
}

static int xsd_listen_fd(void *arg)
{
	struct xsd *x = arg;

	return x->sock ? xs_sock_fd(x->sock) : -1;
}

static void set_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl >= 0)
		fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC);
}

/* What survives exec: the read-write listening socket and every socket
 * client (rings are mapped again by the new process). */
static void xsd_keep_fds(struct xsd *x, bool keep)
{
	struct xs_conn *c;
	int fd;

	if (x->sock)
		set_cloexec(xs_sock_fd(x->sock), !keep);
	TAILQ_FOREACH(c, &x->st.conns, link)
		if ((fd = xs_sock_conn_fd(c)) >= 0)
			set_cloexec(fd, !keep);
}

/*
 * Execute binary with our command line (or cmdline's words, if given)
 * less any --live-update, plus --live-update=state. Returns -errno if
 * the exec failed (the fds are ours again then).
 */
static int xsd_exec(void *arg, const char *binary, const char *cmdline,
		    const char *state)
{
	struct xsd *x = arg;
	char **av, *words = NULL, *opt = NULL, *tok, *save;
	int i, n = 0, err;

	av = calloc((size_t)x->argc + 3 + (cmdline ? strlen(cmdline) : 0),
		    sizeof(*av));
	if (!av || asprintf(&opt, "--live-update=%s", state) < 0 ||
	    (cmdline && !(words = strdup(cmdline)))) {
		free(av);
		free(opt);
		return -ENOMEM;
	}
	av[n++] = (char *)binary;
	if (words) {
		for (tok = strtok_r(words, " \t", &save); tok;
		     tok = strtok_r(NULL, " \t", &save))
			av[n++] = tok;
	} else {
		for (i = 1; i < x->argc; i++)
			if (strncmp(x->argv[i], "--live-update", 13) != 0)
				av[n++] = x->argv[i];
	}
	av[n++] = opt;
	av[n] = NULL;
	xsd_keep_fds(x, true);
	execv(binary, av);
	err = -errno;
	xsd_keep_fds(x, false);
	free(words);
	free(opt);
	free(av);
	return err;
}

static struct xs_conn *xsd_adopt_sock(void *arg, int fd, bool readonly)
{
	struct xsd *x = arg;
	struct xs_sock *ls = readonly && x->sock_ro ? x->sock_ro : x->sock;

	return ls ? xs_sock_adopt_conn(ls, fd, readonly) : NULL;
}

static int xsd_status(void *arg, json_t *obj)
{
	struct xsd *x = arg;

	json_object_set_new(obj, "socket", json_string(x->socket_path));
	if (x->socket_ro_path)
		json_object_set_new(obj, "socket_ro",
				    json_string(x->socket_ro_path));
	json_object_set_new(obj, "nodes",
			    json_integer((json_int_t)x->st.tree.nnodes));
	json_object_set_new(obj, "connections",
			    json_integer((json_int_t)x->st.nconns));
	json_object_set_new(obj, "domains",
			    json_integer((json_int_t)x->st.ndomains));
	json_object_set_new(obj, "persist", json_boolean(x->persist != NULL));
	return 0;
}

static int xsd_stats(void *arg, json_t *obj)
{
	struct xsd *x = arg;
	struct xs_store *st = &x->st;
	json_t *ops = json_object();
	uint32_t t;

	json_object_set_new(obj, "requests",
			    json_integer((json_int_t)st->nrequests));
	json_object_set_new(obj, "errors",
			    json_integer((json_int_t)st->nerrors));
	json_object_set_new(obj, "watch_events",
			    json_integer((json_int_t)st->nevents));
	json_object_set_new(obj, "tx_commits",
			    json_integer((json_int_t)st->ntx_commits));
	json_object_set_new(obj, "tx_conflicts",
			    json_integer((json_int_t)st->ntx_conflicts));
	json_object_set_new(obj, "nodes",
			    json_integer((json_int_t)st->tree.nnodes));
	json_object_set_new(obj, "watches",
			    json_integer((json_int_t)st->watches.count));
	json_object_set_new(obj, "connections",
			    json_integer((json_int_t)st->nconns));
	for (t = 0; t < XS_TYPE_COUNT; t++)
		if (st->nops[t])
			json_object_set_new(ops, xs_op_name(t),
					    json_integer(
						    (json_int_t)st->nops[t]));
	json_object_set_new(obj, "ops", ops);
	/* quota "memory": bytes each introduced domain's nodes cost */
	{
		json_t *mem = json_object();
		const struct xs_domain *d;
		char id[16];

		TAILQ_FOREACH(d, &st->domains, link) {
			snprintf(id, sizeof(id), "%u", d->domid);
			json_object_set_new(mem, id,
					    json_integer(
						    (json_int_t)xs_mem_acct_get(
							    &st->tree.mem,
							    d->domid)));
		}
		json_object_set_new(obj, "memory", mem);
		json_object_set_new(obj, "quota_memory",
				    json_integer((json_int_t)st->quota
							 .val[XS_Q_MEMORY]));
	}
	if (x->persist) {
		struct xs_persist_stats ps;

		xs_persist_get_stats(x->persist, &ps);
		json_object_set_new(obj, "journal",
				    json_pack("{sI sI sI sI}", "records",
					      (json_int_t)ps.records, "bytes",
					      (json_int_t)ps.bytes, "snapshots",
					      (json_int_t)ps.snapshots, "size",
					      (json_int_t)ps.journal_size));
	}
	return 0;
}

static int xsd_memreport(void *arg, json_t *args, json_t **result, char **errmsg)
{
	struct xsd *x = arg;
	struct xs_buf b = { 0 };
	int rc = xs_memreport(&x->st, &b, 0);

	if (rc == 0) {
		*result = json_loads(b.p, 0, NULL);
		if (!*result)
			rc = -ENOMEM;
	}
	xs_buf_free(&b);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		DAEMON_COMMON_LONGOPTS,
		{ "socket", required_argument, NULL, 's' },
		{ "quota", required_argument, NULL, 'Q' },
		{ "no-persist", no_argument, NULL, OPT_NO_PERSIST },
		{ "fsync", no_argument, NULL, OPT_FSYNC },
		{ "socket-ro", required_argument, NULL, OPT_SOCKET_RO },
		{ "socket-output-max", required_argument, NULL, OPT_OUTPUT_MAX },
		{ "live-update", required_argument, NULL, OPT_LIVE_UPDATE },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon_opts o;
	struct xsd x;
	struct xs_quota q;
	struct daemon_run dr;
	struct xs_sock_opts so = { .out_max = DEFAULT_OUTPUT_MAX };
	const char *ro_arg = NULL, *lu_file = NULL;
	struct xs_lu_state *lus = NULL;
	char *lu_path = NULL;
	int lu_listen = -1;
	bool persist = true, want_hv = false, want_fsync = false;
	int opt, r, rc = EXIT_FAILURE;

	memset(&x, 0, sizeof(x));
	x.argc = argc;
	x.argv = argv;
	daemon_opts_init(&o, "xenstored");
	xs_quota_defaults(&q);
	x.socket_path = getenv("XENSTORED_PATH");
	while ((opt = getopt_long(argc, argv, DAEMON_COMMON_SHORTOPTS "s:Q:",
				  longopts, NULL)) != -1) {
		r = daemon_parse_common(&o, opt, optarg);
		if (r < 0)
			return 2; /* bad usage */
		if (opt == DAEMON_OPT_HV)
			want_hv = true;
		if (r > 0) {
			if (opt == 'h') {
				usage(stdout);
				return EXIT_SUCCESS;
			}
			if (opt == 'V') {
				printf("xenstored (%s) %s\n", PACKAGE_NAME,
				       PACKAGE_VERSION);
				return EXIT_SUCCESS;
			}
			continue;
		}
		switch (opt) {
		case 's':
			x.socket_path = optarg;
			break;
		case 'Q':
			if (xs_quota_parse_arg(&q, optarg)) {
				fprintf(stderr,
					"xenstored: bad quota '%s' "
					"(NAME=VALUE, VALUE >= 1)\n",
					optarg);
				return 2;
			}
			break;
		case OPT_NO_PERSIST:
			persist = false;
			break;
		case OPT_FSYNC:
			want_fsync = true;
			break;
		case OPT_SOCKET_RO:
			ro_arg = optarg;
			break;
		case OPT_LIVE_UPDATE:
			lu_file = optarg;
			break;
		case OPT_OUTPUT_MAX: {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end ||
			    optarg[0] == '-' || v > SIZE_MAX / 2) {
				fprintf(stderr,
					"xenstored: bad --socket-output-max "
					"'%s' (bytes)\n",
					optarg);
				return 2;
			}
			so.out_max = (size_t)v;
			break;
		}
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!x.socket_path || !*x.socket_path)
		x.socket_path = DEFAULT_SOCKET;
	if (!ro_arg) {
		if (asprintf(&x.socket_ro_path, "%s_ro", x.socket_path) < 0)
			return EXIT_FAILURE;
	} else if (*ro_arg) {
		x.socket_ro_path = strdup(ro_arg);
		if (!x.socket_ro_path)
			return EXIT_FAILURE;
	}

	if (lu_file)
		o.foreground = 1; /* the process we replace was daemonised */
	if (daemon_start(&dr, &o) < 0)
		return EXIT_FAILURE;
	x.base = dr.base;
	if (xs_store_init(&x.st))
		fatalx("out of memory");
	x.st.quota = q;
	if (lu_file) {
		char err[512];

		lus = xs_lu_read(lu_file, err, sizeof(err));
		if (!lus) {
			log_errx("live update: %s", err);
			goto out;
		}
		if (xs_lu_restore_store(&x.st, lus, &lu_listen)) {
			log_errx("live update: %s: cannot restore the store",
				 lu_file);
			goto out;
		}
	}
	if (persist && lus && !(x.persist = xs_persist_adopt(&x.st, o.run_dir))) {
		log_err("cannot write the store's state in %s", o.run_dir);
		goto out;
	}
	if (persist && !lus && !(x.persist = xs_persist_open(&x.st, o.run_dir))) {
		if (errno == EBUSY)
			log_errx("another xenstored uses %s", o.run_dir);
		else
			log_err("cannot open the store's state in %s",
				o.run_dir);
		goto out;
	}
	if (x.persist)
		xs_persist_set_fsync(x.persist, want_fsync);
	else if (want_fsync)
		log_warnx("--fsync without a journal (--no-persist): ignored");
	/* rings attached from here on (dom0's too) wait for
	 * xs_lu_restore_conns to kick them: their requests must not run
	 * before the watches and transactions they may name are back */
	x.st.restoring = lus != NULL;
	if (want_hv) {
		struct hv_open_opts ho = { .provider = o.hv,
					   .run_dir = o.run_dir };

		x.hv = hv_open(&ho);
		if (!x.hv) {
			log_err("cannot open the hypervisor (--hv)");
			goto out;
		}
		x.ring = xs_ring_new(&x.st, x.base, x.hv);
		if (!x.ring) {
			log_err("cannot set up the ring transport");
			goto out;
		}
		if (x.persist &&
		    (r = xs_ring_keep_partials(x.ring, o.run_dir)) < 0)
			log_errno(LOG_WARNING, r,
				  "a kill may cut a ring request read in part");
		if (hv_provider(x.hv) == HV_PROVIDER_XEN &&
		    (r = xs_ring_dom0(x.ring)) < 0)
			log_errno(LOG_WARNING, r, "not serving dom0's ring");
	}
	xs_domains_attach_all(&x.st);
	if (lu_listen >= 0)
		x.sock = xs_sock_adopt(x.base, &x.st, x.socket_path, lu_listen,
				       &so);
	else
		x.sock = xs_sock_listen(x.base, &x.st, x.socket_path, &so);
	if (!x.sock) {
		log_err("cannot listen on %s", x.socket_path);
		goto out;
	}
	if (x.socket_ro_path) {
		struct xs_sock_opts ro = so;

		ro.readonly = true;
		x.sock_ro = xs_sock_listen(x.base, &x.st, x.socket_ro_path, &ro);
		if (!x.sock_ro) {
			log_err("cannot listen on %s", x.socket_ro_path);
			goto out;
		}
	}
	if (lus) {
		struct xs_lu_adopt a = { .adopt_sock = xsd_adopt_sock,
					 .arg = &x };

		if (xs_lu_restore_conns(&x.st, lus, &a)) {
			log_errx("live update: %s: cannot restore the "
				 "connections",
				 lu_file);
			goto out;
		}
		x.st.restoring = false;
		unlink(lu_file);
		log_notice("live update: resumed from %s", lu_file);
	}
	{
		static const struct xs_lu_ops lu_ops = {
			.conn_fd = xsd_conn_fd,
			.listen_fd = xsd_listen_fd,
			.exec = xsd_exec,
		};
		struct xs_lu_ops ops = lu_ops;

		ops.arg = &x;
		if (asprintf(&lu_path, "%s/" LU_STATE_FILE, o.run_dir) < 0 ||
		    xs_lu_setup(&x.st, &ops, lu_path))
			fatalx("out of memory");
	}
	if (daemon_control(&dr, xsd_status, xsd_stats, &x) < 0)
		goto out;
	ctl_add_cmd(dr.ctl, "memreport", "nodes, watches, connections, domains",
		    xsd_memreport, &x);
	log_notice("serving %s (%zu nodes, %zu domains%s)", x.socket_path,
		   x.st.tree.nnodes, x.st.ndomains,
		   persist ? "" : ", not persistent");
	if (daemon_serve(&dr, "serving") == 0)
		rc = EXIT_SUCCESS;
out:
	if (x.sock)
		xs_sock_close(x.sock);
	if (x.sock_ro)
		xs_sock_close(x.sock_ro);
	free(x.socket_ro_path);
	free(lu_path);
	xs_lu_state_free(lus);
	xs_persist_close(x.persist); /* final snapshot */
	xs_store_free(&x.st);        /* ring connections too */
	xs_ring_free(x.ring);
	if (x.hv)
		hv_close(x.hv);
	daemon_finish(&dr); /* control socket, signals, loop, lock */
	return rc;
}
