/*
 * xs-scale.c - in-process scaling benchmark of the store (no sockets):
 * shows that a write's cost does not grow with the number of watches or
 * nodes, that a transaction's cost does not grow with the store, and what
 * the journal costs per write, and what --fsync adds to it.
 *
 *   xenstored/bench/xs-scale [-n OPS] [-f FSYNC_OPS] [-d DIR]
 *
 * Requests go through the real framing and dispatch (xenstored/mem-conn.h's
 * in-memory transport). DIR (default /tmp) holds the journal of the
 * persistent runs; for the --fsync figure it should be on the disk the
 * run directory would be on. The last line compares, in the same run and
 * directory, FSYNC_OPS (default 2000) journalled writes without and with
 * fdatasync per write, in writes/s.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xenstored/mem-conn.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void populate(struct tconn *a, int nodes)
{
	char p[64];
	int i;

	for (i = 0; i < nodes; i++) {
		snprintf(p, sizeof(p), "/pop/%d/%d", i % 100, i);
		t_write(a, 0, p, "x");
	}
}

static double writes(struct tconn *a, int n)
{
	char p[64];
	double t0 = now();
	int i;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "/bench/k%d", i % 100);
		t_write(a, 0, p, "value");
	}
	return (now() - t0) / n * 1e6;
}

static double txns(struct tconn *a, int n)
{
	char v[16];
	double t0 = now();
	int i;

	for (i = 0; i < n; i++) {
		uint32_t tx = t_tx_start(a);

		t_read(a, tx, "/bench/k1", v, sizeof(v));
		t_write(a, tx, "/bench/k1", "tx");
		t_tx_end(a, tx, true);
	}
	return (now() - t0) / n * 1e6;
}

static void run(const char *label, int nodes, int watches, const char *dir,
		int n)
{
	struct xs_store st;
	struct xs_persist *ps = NULL;
	struct tconn *a, *w;
	char p[64];
	int i;

	xs_store_init(&st);
	if (dir && !(ps = xs_persist_open(&st, dir))) {
		perror("persist");
		exit(1);
	}
	a = t_conn(&st, 0, true);
	w = t_conn(&st, 0, true);
	populate(a, nodes);
	for (i = 0; i < watches; i++) {
		snprintf(p, sizeof(p), "/watched/%d", i);
		t_strs(w, XS_WATCH, 0, p, "t", NULL);
	}
	t_drain_events(w);
	printf("%-28s nodes %7zu watches %6d: write %6.2f us  txn %6.2f us\n",
	       label, st.tree.nnodes, watches, writes(a, n), txns(a, n / 10));
	t_free(a);
	t_free(w);
	if (ps)
		xs_persist_abandon(ps);
	xs_store_free(&st);
}

/* Writes/s of n journalled writes in a fresh directory under dir. */
static double journalled_rate(const char *dir, int n, bool sync)
{
	static const char *files[] = { "xenstored.db", "xenstored.journal",
				       "xenstored.lock" };
	char tmpl[4096], f[4200];
	struct xs_persist *ps;
	struct xs_store st;
	struct tconn *a;
	double us;
	size_t i;

	snprintf(tmpl, sizeof(tmpl), "%s/xs-fsync.XXXXXX", dir);
	if (!mkdtemp(tmpl)) {
		perror(tmpl);
		exit(1);
	}
	xs_store_init(&st);
	ps = xs_persist_open(&st, tmpl);
	if (!ps) {
		perror("persist");
		exit(1);
	}
	xs_persist_set_fsync(ps, sync);
	a = t_conn(&st, 0, true);
	us = writes(a, n);
	t_free(a);
	xs_persist_abandon(ps);
	xs_store_free(&st);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(f, sizeof(f), "%s/%s", tmpl, files[i]);
		unlink(f);
	}
	rmdir(tmpl);
	return 1e6 / us;
}

int main(int argc, char **argv)
{
	const char *dir = "/tmp";
	char tmpl[4096];
	int n = 100000, nsync = 2000, opt;
	double off, on;

	while ((opt = getopt(argc, argv, "n:f:d:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'f')
			nsync = atoi(optarg);
		else if (opt == 'd')
			dir = optarg;
		else {
			fprintf(stderr,
				"usage: xs-scale [-n OPS] [-f FSYNC_OPS] "
				"[-d DIR]\n");
			return 2;
		}
	}
	if (n < 10)
		n = 10;
	if (nsync < 10)
		nsync = 10;
	log_set_level(LOG_ERR);
	run("baseline", 0, 0, NULL, n);
	run("100k nodes", 100000, 0, NULL, n);
	run("10k watches elsewhere", 0, 10000, NULL, n);
	run("100k nodes + 10k watches", 100000, 10000, NULL, n);
	snprintf(tmpl, sizeof(tmpl), "%s/xs-scale.XXXXXX", dir);
	if (!mkdtemp(tmpl)) {
		perror(tmpl);
		return 1;
	}
	run("journalled (tmpfs/disk)", 0, 0, tmpl, n);
	{
		char f[4200];

		snprintf(f, sizeof(f), "%s/xenstored.db", tmpl);
		unlink(f);
		snprintf(f, sizeof(f), "%s/xenstored.journal", tmpl);
		unlink(f);
		rmdir(tmpl);
	}
	/* interleaved, so that a change in the disk's load hits both */
	off = journalled_rate(dir, nsync, false);
	on = journalled_rate(dir, nsync, true);
	off = (off + journalled_rate(dir, nsync, false)) / 2;
	printf("journal in %s, %d writes: %.0f writes/s, with --fsync %.0f "
	       "writes/s (%.1fx slower)\n",
	       dir, nsync, off, on, off / on);
	return 0;
}
