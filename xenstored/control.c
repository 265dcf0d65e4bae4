/*
 * control.c - XS_CONTROL (xenstore-control): check, help, live-update
 * (lu.c), log, memreport, print, quota. Replies are text (memreport: JSON), like C xenstored's.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "xenstored/conn.h"
#include "xenstored/control.h"
#include "xenstored/domain.h"
#include "xenstored/lu.h"
#include "xenstored/xenstored.h"

struct control_cmd {
	const char *name;
	const char *args;
	int (*fn)(struct xs_store *st, struct xs_conn *c, char **argv, int argc,
		  struct xs_buf *out);
};

static const struct control_cmd *cmds(size_t *n);

struct check_ctx {
	const struct xs_tree *t;
	size_t nodes;
	int bad;
};

static int check_node(const struct xs_node *n, void *arg)
{
	struct check_ctx *cc = arg;
	const struct xs_node *c;
	uint32_t nchildren = 0, childlen = 0;

	cc->nodes++;
	if (xs_tree_get(cc->t, n->path) != n || n->nperms == 0)
		cc->bad++;
	TAILQ_FOREACH(c, &n->children, sib) {
		nchildren++;
		childlen += (uint32_t)strlen(c->name) + 1;
		if (c->parent != n || c->gen > cc->t->gen)
			cc->bad++;
	}
	if (nchildren != n->nchildren || childlen != n->childlen)
		cc->bad++;
	return 0;
}

/* check: verify the tree's invariants (hash, children, counters). */
static int ctl_check(struct xs_store *st, struct xs_conn *c, char **argv,
		     int argc, struct xs_buf *out)
{
	struct check_ctx cc = { &st->tree, 0, 0 };

	if (argc)
		return -EINVAL;
	xs_tree_walk(st->tree.root, check_node, &cc);
	if (cc.nodes != st->tree.nnodes || cc.nodes != st->tree.paths.n)
		cc.bad++;
	if (cc.bad) {
		log_errx("control check: %d inconsistencies in %zu nodes",
			 cc.bad, cc.nodes);
		return -EIO;
	}
	return xs_buf_addstr(out, "OK");
}

static int ctl_help(struct xs_store *st, struct xs_conn *c, char **argv,
		    int argc, struct xs_buf *out)
{
	size_t i, n;
	const struct control_cmd *t = cmds(&n);

	if (argc)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (xs_buf_printf(out, "%-15s %s\n", t[i].name, t[i].args))
			return -ENOMEM;
	return xs_buf_add(out, "", 1);
}

/* log on|off|LEVEL: on = debug, off = notice (our default). */
static int ctl_log(struct xs_store *st, struct xs_conn *c, char **argv,
		   int argc, struct xs_buf *out)
{
	int level;

	if (argc != 1)
		return -EINVAL;
	if (strcmp(argv[0], "on") == 0)
		level = LOG_DEBUG;
	else if (strcmp(argv[0], "off") == 0)
		level = LOG_NOTICE;
	else if (log_parse_level(argv[0], &level))
		return -EINVAL;
	log_set_level(level);
	return xs_buf_addstr(out, "OK");
}

static int ctl_print(struct xs_store *st, struct xs_conn *c, char **argv,
		     int argc, struct xs_buf *out)
{
	if (argc != 1)
		return -EINVAL;
	log_notice("control print: %s", argv[0]);
	return xs_buf_addstr(out, "OK");
}

/* What fits in one XS_CONTROL reply (XENSTORE_PAYLOAD_MAX) for sure. */
#define MEMREPORT_MAX_LIST 10

/* xs_memreport - JSON of nodes, watches, connections, domains. */
int xs_memreport(struct xs_store *st, struct xs_buf *out, size_t max_list)
{
	json_t *root = json_object(), *conns = json_array(),
	       *doms = json_array();
	struct xs_conn *c;
	struct xs_domain *d;
	size_t ntx = 0, i = 0;
	char *s;
	int rc = -ENOMEM;

	if (!root || !conns || !doms)
		goto out;
	TAILQ_FOREACH(c, &st->conns, link) {
		ntx += c->ntxns;
		if (max_list && i++ >= max_list)
			continue;
		json_array_append_new(conns,
				      json_pack("{sI sI sb sI sI sI sI sI}",
						"id", (json_int_t)c->id,
						"domid", (json_int_t)c->domid,
						"privileged", c->privileged,
						"watches",
						(json_int_t)c->nwatches,
						"transactions",
						(json_int_t)c->ntxns,
						"outstanding",
						(json_int_t)c->outstanding,
						"out_bytes",
						(json_int_t)c->out_bytes,
						"requests",
						(json_int_t)c->nreq));
	}
	i = 0;
	TAILQ_FOREACH(d, &st->domains, link) {
		if (max_list && i++ >= max_list)
			break;
		json_array_append_new(doms,
				      json_pack("{sI sI sI sI sb sI}", "domid",
						(json_int_t)d->domid, "gfn",
						(json_int_t)d->mfn, "port",
						(json_int_t)d->port, "target",
						(json_int_t)d->target,
						"connected", d->conn != NULL,
						"nodes",
						(json_int_t)
							xs_tree_owned(&st->tree,
								      d->domid)));
	}
	json_object_set_new(root, "nodes",
			    json_integer((json_int_t)st->tree.nnodes));
	json_object_set_new(root, "node_bytes",
			    json_integer((json_int_t)st->tree.bytes));
	json_object_set_new(root, "watches",
			    json_integer((json_int_t)st->watches.count));
	json_object_set_new(root, "watched_paths",
			    json_integer((json_int_t)st->watches.by_path.n));
	json_object_set_new(root, "transactions", json_integer((json_int_t)ntx));
	json_object_set_new(root, "connections_total",
			    json_integer((json_int_t)st->nconns));
	json_object_set_new(root, "domains_total",
			    json_integer((json_int_t)st->ndomains));
	json_object_set(root, "connections", conns);
	json_object_set(root, "domains", doms);
	s = json_dumps(root, JSON_COMPACT);
	if (s) {
		rc = xs_buf_addstr(out, s);
		free(s);
	}
out:
	json_decref(conns);
	json_decref(doms);
	json_decref(root);
	return rc;
}

static int ctl_memreport(struct xs_store *st, struct xs_conn *c, char **argv,
			 int argc, struct xs_buf *out)
{
	if (argc)
		return -EINVAL;
	return xs_memreport(st, out, MEMREPORT_MAX_LIST);
}

/* quota | quota set NAME VALUE | quota DOMID */
static int ctl_quota(struct xs_store *st, struct xs_conn *c, char **argv,
		     int argc, struct xs_buf *out)
{
	int i;

	if (argc == 0) {
		if (xs_buf_printf(out, "Quota settings:\n"))
			return -ENOMEM;
		for (i = 0; i < XS_Q_COUNT; i++)
			if (xs_buf_printf(out, "%-17s: %8u %s\n",
					  xs_quota_name(i), st->quota.val[i],
					  xs_quota_descr(i)))
				return -ENOMEM;
		return xs_buf_add(out, "", 1);
	}
	if (strcmp(argv[0], "set") == 0) {
		if (argc != 3 || xs_quota_set(&st->quota, argv[1], argv[2]))
			return -EINVAL;
		log_notice("quota %s set to %s", argv[1], argv[2]);
		return xs_buf_addstr(out, "OK");
	}
	if (argc == 1) {
		char *end;
		unsigned long domid = strtoul(argv[0], &end, 10);
		unsigned watches = 0, txns = 0, outst = 0;
		struct xs_conn *k;

		if (*end || end == argv[0] || domid > 0xffff)
			return -EINVAL;
		if (domid != 0 && !xs_domain_find(st, (uint32_t)domid))
			return -ENOENT;
		TAILQ_FOREACH(k, &st->conns, link)
			if (k->domid == domid) {
				watches += k->nwatches;
				txns += k->ntxns;
				outst += k->outstanding;
			}
		if (xs_buf_printf(out, "Domain %lu:\n", domid) ||
		    xs_buf_printf(out, "%-17s: %8u (max %8u)\n", "nodes",
				  xs_tree_owned(&st->tree, (uint32_t)domid),
				  st->quota.val[XS_Q_NODES]) ||
		    xs_buf_printf(out, "%-17s: %8u (max %8u)\n", "watches",
				  watches, st->quota.val[XS_Q_WATCHES]) ||
		    xs_buf_printf(out, "%-17s: %8u (max %8u)\n", "transactions",
				  txns, st->quota.val[XS_Q_TRANSACTIONS]) ||
		    xs_buf_printf(out, "%-17s: %8u (max %8u)\n", "outstanding",
				  outst, st->quota.val[XS_Q_OUTSTANDING]) ||
		    xs_buf_printf(out, "%-17s: %8u (max %8u)\n", "memory",
				  xs_mem_acct_get(&st->tree.mem, (uint32_t)domid),
				  st->quota.val[XS_Q_MEMORY]))
			return -ENOMEM;
		return xs_buf_add(out, "", 1);
	}
	return -EINVAL;
}

static const struct control_cmd cmd_table[] = {
	{ "check", "", ctl_check },
	{ "help", "", ctl_help },
	{ "live-update", "[-c <cmdline>] [-F] [-t <timeout>] <file>",
	  xs_lu_control },
	{ "log", "on|off|<level>", ctl_log },
	{ "memreport", "", ctl_memreport },
	{ "print", "<string>", ctl_print },
	{ "quota", "[set <name> <val>|<domid>]", ctl_quota },
};

static const struct control_cmd *cmds(size_t *n)
{
	*n = sizeof(cmd_table) / sizeof(cmd_table[0]);
	return cmd_table;
}

/* xs_control - run one XS_CONTROL command. */
int xs_control(struct xs_store *st, struct xs_conn *c, char **argv, int argc,
	       struct xs_buf *out)
{
	size_t i;

	if (argc < 1)
		return -EINVAL;
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (strcmp(argv[0], cmd_table[i].name) == 0)
			return cmd_table[i].fn(st, c, argv + 1, argc - 1, out);
	return -EINVAL;
}
