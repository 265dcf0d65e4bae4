/*
 * splitctl-net.c - splitctl's network commands, as xl's:
 *
 *   network-attach DOMID [mac=MAC] [bridge=BR] [rate=RATE] [script=S]
 *                  [ip=IPS] [backend=DOMID] [vifname=NAME] [type=vif]
 *   network-detach DOMID DEVID|MAC
 *   network-list DOMID
 *
 * The nodes are libxl's (libxl_nic.c and the generic device code), all
 * written in one transaction:
 *
 *   BE = /local/domain/<backend>/backend/vif/<domid>/<devid>, owned by the
 *   backend domain, the guest may read: frontend, frontend-id, online=1,
 *   state=1 (Initialising), script (if given), mac, bridge, handle=<devid>,
 *   type=vif, rate "BYTES,USECS" (if given), ip, vifname (if given);
 *
 *   FE = /local/domain/<domid>/device/vif/<devid>, owned by the guest,
 *   the backend may read: backend, backend-id, state=1, handle, mac.
 *
 * The devid is libxl's next id: one above the highest of the domain's
 * vifs (frontend or backend side). Without mac=, a random one in Xen's
 * OUI, 00:16:3e with the next bit clear, as libxl makes it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <xenstore.h>

#include "netback/rate.h"
#include "tools/splitctl.h"

#define VIF_DEFAULT_BRIDGE "xenbr0" /* libxl's default */
#define XEN_SCRIPT_DIR     "/etc/xen/scripts"

/* The arguments of network-attach, validated. */
struct nic_args {
	char mac[18];
	const char *bridge; /* NULL: no bridge key */
	const char *script, *ip, *vifname;
	char script_abs[256];
	char rate[48]; /* "BYTES,USECS", or "" */
	domid_t backend;
};

/* parse_mac - "xx:xx:xx:xx:xx:xx" (hex, either case) into out as
 * lower-case; 0, or -1. */
static int parse_mac(const char *s, char out[18])
{
	unsigned int b[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return -1;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -1;
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5]);
	return 0;
}

/* random_mac - libxl's: 00:16:3e, then 7 random bits and 16 more. */
static int random_mac(char out[18])
{
	unsigned char r[3];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	snprintf(out, 18, "00:16:3e:%02x:%02x:%02x", r[0] & 0x7f, r[1], r[2]);
	return 0;
}

/* ifname_ok - a Linux interface name: 1..15 octets, no '/', ':' or
 * white space. */
static int ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) ||
		    !isprint((unsigned char)s[i]))
			return 0;
	return 1;
}

/* value_ok - printable, no newline: what we write as a node's value. */
static int value_ok(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return 0;
	return 1;
}

/* parse_args - xl's KEY=VALUE arguments into *a. 0, or the exit status
 * (2) after a message. */
static int parse_args(char **args, int nargs, struct nic_args *a)
{
	memset(a, 0, sizeof(*a));
	a->bridge = VIF_DEFAULT_BRIDGE;
	for (int i = 0; i < nargs; i++) {
		const char *arg = args[i], *eq = strchr(arg, '='), *v;
		const char *why = NULL;
		struct netbk_rate r;
		unsigned long n;

		if (!eq) {
			fprintf(stderr,
				"splitctl: '%s': network-attach takes "
				"KEY=VALUE arguments (see splitctl --help)\n",
				arg);
			return 2;
		}
		v = eq + 1;
#define KEY(k) ((size_t)(eq - arg) == strlen(k) && !strncmp(arg, k, eq - arg))
		if (KEY("mac")) {
			if (parse_mac(v, a->mac) < 0) {
				fprintf(stderr,
					"splitctl: mac=%s: not a MAC address "
					"(xx:xx:xx:xx:xx:xx)\n",
					v);
				return 2;
			}
			if (strtoul(a->mac, NULL, 16) & 1) {
				fprintf(stderr,
					"splitctl: mac=%s: a multicast "
					"address (the first octet is odd)\n",
					v);
				return 2;
			}
		} else if (KEY("bridge")) {
			if (*v && !ifname_ok(v)) {
				fprintf(stderr,
					"splitctl: bridge=%s: not an interface "
					"name (1-15 characters, no '/', ':' "
					"or spaces)\n",
					v);
				return 2;
			}
			a->bridge = *v ? v : NULL;
		} else if (KEY("vifname")) {
			if (!ifname_ok(v)) {
				fprintf(stderr,
					"splitctl: vifname=%s: not an "
					"interface name\n",
					v);
				return 2;
			}
			a->vifname = v;
		} else if (KEY("rate")) {
			if (netbk_rate_parse(v, &r, &why) < 0) {
				fprintf(stderr, "splitctl: rate=%s: %s\n", v,
					why);
				return 2;
			}
			netbk_rate_format_xs(&r, a->rate, sizeof(a->rate));
		} else if (KEY("script")) {
			if (!*v || !value_ok(v)) {
				fprintf(stderr, "splitctl: script=: a path\n");
				return 2;
			}
			/* libxl: relative to Xen's script directory */
			if (snprintf(a->script_abs, sizeof(a->script_abs),
				     "%s%s%s", *v == '/' ? "" : XEN_SCRIPT_DIR,
				     *v == '/' ? "" : "/",
				     v) >= (int)sizeof(a->script_abs)) {
				fprintf(stderr, "splitctl: script=: too long\n");
				return 2;
			}
			a->script = a->script_abs;
		} else if (KEY("ip")) {
			if (!*v || !value_ok(v)) {
				fprintf(stderr, "splitctl: ip=: one or more "
						"addresses, space-separated\n");
				return 2;
			}
			a->ip = v;
		} else if (KEY("backend")) {
			if (splitctl_parse_uint(v, DOMID_FIRST_RESERVED - 1,
						&n) < 0) {
				fprintf(stderr,
					"splitctl: backend=%s: a domain id\n",
					v);
				return 2;
			}
			a->backend = (domid_t)n;
		} else if (KEY("type")) {
			if (strcmp(v, "vif") != 0) {
				fprintf(stderr,
					"splitctl: type=%s: only vif (a PV "
					"NIC; no emulated ones)\n",
					v);
				return 2;
			}
		} else {
			fprintf(stderr,
				"splitctl: unknown network-attach key '%.*s' "
				"(mac, bridge, rate, script, ip, backend, "
				"vifname, type)\n",
				(int)(eq - arg), arg);
			return 2;
		}
#undef KEY
	}
	if (!a->mac[0] && random_mac(a->mac) < 0) {
		fprintf(stderr, "splitctl: no random MAC: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}

/* highest_id - the highest numeric entry of dir, or -1. */
static long highest_id(struct xs_handle *xs, xs_transaction_t t, const char *dir)
{
	unsigned int n = 0;
	char **ids = xs_directory(xs, t, dir, &n);
	long top = -1;

	for (unsigned int i = 0; ids && i < n; i++) {
		unsigned long v;

		if (!splitctl_parse_uint(ids[i], 0x7fffffff, &v) &&
		    (long)v > top)
			top = (long)v;
	}
	free(ids);
	return top;
}

/* mac_in_use - the devid of the domain's vif with this MAC, or -1. */
static long mac_in_use(struct xs_handle *xs, xs_transaction_t t,
		       const char *fedir, const char *mac)
{
	unsigned int n = 0;
	char **ids = xs_directory(xs, t, fedir, &n);
	long found = -1;

	for (unsigned int i = 0; ids && i < n && found < 0; i++) {
		char *m = splitctl_read(xs, t, "%s/%s/mac", fedir, ids[i]);
		char norm[18];

		if (m && parse_mac(m, norm) == 0 && !strcmp(norm, mac))
			found = atol(ids[i]);
		free(m);
	}
	free(ids);
	return found;
}

/* write_nodes - the vif's nodes in transaction t. 0, or -1 with errno. */
static int write_nodes(struct xs_handle *xs, xs_transaction_t t, domid_t domid,
		       unsigned long devid, const char *be, const char *fe,
		       const struct nic_args *a)
{
	struct xs_permissions guest_owns[2] = {
		{ .id = domid, .perms = XS_PERM_NONE },
		{ .id = a->backend, .perms = XS_PERM_READ },
	};
	struct xs_permissions backend_owns[2] = {
		{ .id = a->backend, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	};
	struct node {
		const char *dir, *key;
		char val[256];
	} nodes[18];
	int k = 0;

#define NODE(d, kk, ...)                                                       \
	do {                                                                   \
		nodes[k].dir = d;                                              \
		nodes[k].key = kk;                                             \
		snprintf(nodes[k].val, sizeof(nodes[k].val), __VA_ARGS__);     \
		k++;                                                           \
	} while (0)
	NODE(fe, "backend", "%s", be);
	NODE(fe, "backend-id", "%u", a->backend);
	NODE(fe, "state", "1");
	NODE(fe, "handle", "%lu", devid);
	NODE(fe, "mac", "%s", a->mac);
	NODE(be, "frontend", "%s", fe);
	NODE(be, "frontend-id", "%u", domid);
	NODE(be, "online", "1");
	NODE(be, "state", "1");
	if (a->script)
		NODE(be, "script", "%s", a->script);
	NODE(be, "mac", "%s", a->mac);
	if (a->bridge)
		NODE(be, "bridge", "%s", a->bridge);
	NODE(be, "handle", "%lu", devid);
	NODE(be, "type", "vif");
	if (a->rate[0])
		NODE(be, "rate", "%s", a->rate);
	if (a->ip)
		NODE(be, "ip", "%s", a->ip);
	if (a->vifname)
		NODE(be, "vifname", "%s", a->vifname);
#undef NODE
	if (!xs_mkdir(xs, t, fe) ||
	    !xs_set_permissions(xs, t, fe, guest_owns, 2) ||
	    !xs_mkdir(xs, t, be) ||
	    !xs_set_permissions(xs, t, be, backend_owns, 2))
		return -1;
	for (const struct node *n = nodes; n < nodes + k; n++) {
		char path[320];

		snprintf(path, sizeof(path), "%s/%s", n->dir, n->key);
		if (!xs_write(xs, t, path, n->val, (unsigned)strlen(n->val)))
			return -1;
	}
	return 0;
}

int splitctl_network_attach(domid_t domid, char **args, int nargs)
{
	char fe[128], be[128], fedir[96], bedir[96], what[128], undo[96];
	char why[512];
	struct nic_args a;
	struct xs_handle *xs;
	unsigned long devid = 0;
	int rc;

	rc = parse_args(args, nargs, &a);
	if (rc)
		return rc;
	snprintf(what, sizeof(what),
		 "cannot attach a NIC (mac %s) to domain %u", a.mac, domid);
	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr,
			"splitctl: %s: cannot reach xenstored at %s: %s "
			"(is it running?)\n",
			what,
			getenv("XENSTORED_PATH")
				? getenv("XENSTORED_PATH")
				: "libxenstore's default socket",
			strerror(errno));
		return 1;
	}
	if (splitctl_check_domain(xs, domid, why, sizeof(why))) {
		fprintf(stderr, "splitctl: %s: %s\n", what, why);
		xs_close(xs);
		return 1;
	}
	if (a.backend != 0) {
		char *home = splitctl_read(xs, XBT_NULL,
					   "/local/domain/%u/domid", a.backend);

		if (!home) {
			fprintf(stderr,
				"splitctl: %s: backend domain %u does not "
				"exist\n",
				what, a.backend);
			xs_close(xs);
			return 1;
		}
		free(home);
	}
	snprintf(fedir, sizeof(fedir), "/local/domain/%u/device/vif", domid);
	snprintf(bedir, sizeof(bedir), "/local/domain/%u/backend/vif/%u",
		 a.backend, domid);
	for (int tries = 0;; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		long top, used;

		if (!t) {
			fprintf(stderr, "splitctl: %s: %s\n", what,
				strerror(errno));
			xs_close(xs);
			return 1;
		}
		used = mac_in_use(xs, t, fedir, a.mac);
		if (used >= 0) {
			xs_transaction_end(xs, t, true);
			fprintf(stderr,
				"splitctl: %s: vif %ld of domain %u has that "
				"MAC already (splitctl network-detach %u %s "
				"removes it)\n",
				what, used, domid, domid, a.mac);
			xs_close(xs);
			return 1;
		}
		/* libxl's next id; the backend side too, where a frontend
		 * directory was removed under it */
		top = highest_id(xs, t, fedir);
		if (highest_id(xs, t, bedir) > top)
			top = highest_id(xs, t, bedir);
		devid = (unsigned long)(top + 1);
		snprintf(fe, sizeof(fe), "%s/%lu", fedir, devid);
		snprintf(be, sizeof(be), "%s/%lu", bedir, devid);
		if (write_nodes(xs, t, domid, devid, be, fe, &a) < 0) {
			int e = errno;

			xs_transaction_end(xs, t, true);
			fprintf(stderr, "splitctl: %s: writing %s: %s\n", what,
				be, strerror(e));
			xs_close(xs);
			return 1;
		}
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN || tries > 10) {
			fprintf(stderr, "splitctl: %s: writing %s: %s\n", what,
				be, strerror(errno));
			xs_close(xs);
			return 1;
		}
	}
	if (!splitctl_wait_s) {
		printf("attaching vif %lu of domain %u: mac %s, bridge %s "
		       "(not waiting for the backend)\n",
		       devid, domid, a.mac, a.bridge ? a.bridge : "(none)");
		xs_close(xs);
		return 0;
	}
	snprintf(what, sizeof(what),
		 "cannot attach vif %lu (mac %s) to domain %u", devid, a.mac,
		 domid);
	snprintf(undo, sizeof(undo), "splitctl network-detach %u %lu", domid,
		 devid);
	rc = splitctl_attach_wait(xs, be, fe, "netback", "netfront", what, undo);
	if (rc == 0)
		printf("attached vif %lu of domain %u: mac %s, bridge %s: "
		       "connected\n",
		       devid, domid, a.mac, a.bridge ? a.bridge : "(none)");
	xs_close(xs);
	return rc;
}

/*
 * find_vif - the devid of the domain's vif named by which (a devid, or a
 * MAC: frontend side first, then any backend's side, for a guest whose
 * directory is gone), with its be/fe paths. 0, or -1 after a message.
 */
static int find_vif(struct xs_handle *xs, domid_t domid, const char *which,
		    char *be, size_t belen, char *fe, size_t felen)
{
	char fedir[96], bedir[96], mac[18], *bepath;
	unsigned long devid;
	long found = -1;

	snprintf(fedir, sizeof(fedir), "/local/domain/%u/device/vif", domid);
	snprintf(bedir, sizeof(bedir), "/local/domain/0/backend/vif/%u", domid);
	if (splitctl_parse_uint(which, 0x7fffffff, &devid) == 0) {
		found = (long)devid;
	} else if (parse_mac(which, mac) == 0) {
		found = mac_in_use(xs, XBT_NULL, fedir, mac);
		if (found < 0)
			found = mac_in_use(xs, XBT_NULL, bedir, mac);
	} else {
		fprintf(stderr,
			"splitctl: '%s' is neither a devid nor a MAC address\n",
			which);
		return -2;
	}
	if (found < 0) {
		fprintf(stderr, "splitctl: domain %u has no NIC %s\n", domid,
			which);
		return -1;
	}
	snprintf(fe, felen, "%s/%ld", fedir, found);
	bepath = splitctl_read(xs, XBT_NULL, "%s/backend", fe);
	if (bepath && !strncmp(bepath, "/local/domain/", 14) &&
	    strlen(bepath) < belen) {
		snprintf(be, belen, "%s", bepath);
	} else {
		/* the guest's side is gone: dom0's backend */
		snprintf(be, belen, "%s/%ld", bedir, found);
		free(bepath);
		bepath = splitctl_read(xs, XBT_NULL, "%s/frontend", be);
		if (!bepath) {
			fprintf(stderr, "splitctl: domain %u has no NIC %s\n",
				domid, which);
			return -1;
		}
	}
	free(bepath);
	return 0;
}

int splitctl_network_detach(domid_t domid, const char *which)
{
	char be[128], fe[128], name[32];
	struct xs_handle *xs = splitctl_xs_open();
	int rc;

	if (!xs)
		return 1;
	rc = find_vif(xs, domid, which, be, sizeof(be), fe, sizeof(fe));
	if (rc < 0) {
		xs_close(xs);
		return rc == -2 ? 2 : 1;
	}
	snprintf(name, sizeof(name), "vif %s", strrchr(fe, '/') + 1);
	rc = splitctl_detach(xs, be, fe, name, domid, "netback", 1);
	xs_close(xs);
	return rc;
}

int splitctl_network_list(domid_t domid)
{
	struct xs_handle *xs = splitctl_xs_open();
	char dir[64], **ids;
	unsigned int n = 0;

	if (!xs)
		return 1;
	snprintf(dir, sizeof(dir), "/local/domain/%u/device/vif", domid);
	ids = xs_directory(xs, XBT_NULL, dir, &n);
	/* xl network-list's columns */
	printf("%-4s %-3s %-17s %-6s %-5s %-6s %-15s %s\n", "Idx", "BE",
	       "Mac Addr.", "handle", "state", "evt-ch", "tx-/rx-ring-ref",
	       "BE-path");
	for (unsigned int i = 0; ids && i < n; i++) {
		const char *keys[] = { "backend-id",    "mac",
				       "handle",        "state",
				       "event-channel", "tx-ring-ref",
				       "rx-ring-ref",   "backend" };
		char *v[8];

		for (int k = 0; k < 8; k++)
			v[k] = splitctl_read(xs, XBT_NULL, "%s/%s/%s", dir,
					     ids[i], keys[k]);
		printf("%-4s %-3s %-17s %-6s %-5s %-6s %7s/%-7s %s\n", ids[i],
		       v[0] ? v[0] : "-", v[1] ? v[1] : "-", v[2] ? v[2] : "-",
		       v[3] ? v[3] : "-", v[4] ? v[4] : "-1", v[5] ? v[5] : "-1",
		       v[6] ? v[6] : "-1", v[7] ? v[7] : "-");
		for (int k = 0; k < 8; k++)
			free(v[k]);
	}
	free(ids);
	xs_close(xs);
	return 0;
}
