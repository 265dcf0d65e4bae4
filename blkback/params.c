/*
 * params.c - parse a vbd's `params` and `type` keys into the backing to
 * open (see common.h for the syntax). The keys are written by the
 * toolstack, but they are still checked field by field: every length is
 * bounded, every number parsed in full.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkback/common.h"

#define NBD_DEFAULT_PORT "10809"

static int copy_str(char *dst, size_t len, const char *src, size_t n)
{
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* Decode %XX escapes in place (URIs); -EINVAL on a bad escape or NUL. */
static int uri_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			char hex[3] = { 0 };
			char *end;
			long v;

			if (!s[1] || !s[2])
				return -EINVAL;
			hex[0] = s[1];
			hex[1] = s[2];
			v = strtol(hex, &end, 16);
			if (*end || v == 0)
				return -EINVAL;
			*w++ = (char)v;
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

static int valid_port(const char *s)
{
	char *end;
	unsigned long v;

	if (!*s || strlen(s) > 5)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	return !errno && !*end && v >= 1 && v <= 65535 && s[0] != '+' &&
	       s[0] != '-';
}

/* nbd://host[:port][/export] */
static int parse_nbd_tcp(const char *rest, struct blkbk_params *p,
			 const char **why)
{
	const char *slash = strchr(rest, '/');
	size_t hostport_len = slash ? (size_t)(slash - rest) : strlen(rest);
	char hp[300];
	char *port = NULL;

	if (hostport_len == 0 || hostport_len >= sizeof(hp)) {
		*why = "nbd:// needs a host";
		return -EINVAL;
	}
	memcpy(hp, rest, hostport_len);
	hp[hostport_len] = '\0';
	if (hp[0] == '[') {
		char *close = strchr(hp, ']');

		if (!close || close == hp + 1) {
			*why = "bad [IPv6] host";
			return -EINVAL;
		}
		*close = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1]) {
			*why = "junk after ]";
			return -EINVAL;
		}
		if (copy_str(p->host, sizeof(p->host), hp + 1, strlen(hp + 1)) <
		    0) {
			*why = "host too long";
			return -EINVAL;
		}
	} else {
		char *colon = strchr(hp, ':');

		if (colon) {
			*colon = '\0';
			port = colon + 1;
		}
		if (!hp[0] ||
		    copy_str(p->host, sizeof(p->host), hp, strlen(hp)) < 0) {
			*why = "bad host";
			return -EINVAL;
		}
	}
	if (port && !valid_port(port)) {
		*why = "bad port";
		return -EINVAL;
	}
	snprintf(p->port, sizeof(p->port), "%s", port ? port : NBD_DEFAULT_PORT);
	if (slash) {
		if (copy_str(p->export_name, sizeof(p->export_name), slash + 1,
			     strlen(slash + 1)) < 0 ||
		    uri_unescape(p->export_name) < 0) {
			*why = "bad export name";
			return -EINVAL;
		}
	}
	return 0;
}

/* nbd+unix:///export?socket=PATH */
static int parse_nbd_unix(const char *rest, struct blkbk_params *p,
			  const char **why)
{
	const char *q, *exp;
	size_t exp_len;

	if (rest[0] != '/') {
		*why = "nbd+unix:// takes no host (nbd+unix:///export?socket=PATH)";
		return -EINVAL;
	}
	exp = rest + 1;
	q = strchr(exp, '?');
	if (!q || strncmp(q + 1, "socket=", 7) != 0) {
		*why = "nbd+unix needs ?socket=PATH";
		return -EINVAL;
	}
	exp_len = (size_t)(q - exp);
	if (copy_str(p->export_name, sizeof(p->export_name), exp, exp_len) < 0 ||
	    uri_unescape(p->export_name) < 0) {
		*why = "bad export name";
		return -EINVAL;
	}
	q += 1 + 7;
	if (strchr(q, '&')) {
		*why = "unknown query parameter";
		return -EINVAL;
	}
	if (copy_str(p->socket, sizeof(p->socket), q, strlen(q)) < 0 ||
	    uri_unescape(p->socket) < 0 || p->socket[0] != '/') {
		*why = "socket must be an absolute path (< 108 bytes)";
		return -EINVAL;
	}
	return 0;
}

int blkbk_params_parse(const char *params, const char *type,
		       struct blkbk_params *p, const char **why)
{
	static const char *const raw_prefixes[] = { "file:", "phy:", "raw:",
						    "aio:" };
	const char *path = params;
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(p, 0, sizeof(*p));
	if (!params || !*params) {
		*why = "empty params";
		return -EINVAL;
	}
	if (strncmp(params, "nbd://", 6) == 0) {
		p->kind = BLKBK_BACKING_NBD;
		return parse_nbd_tcp(params + 6, p, why);
	}
	if (strncmp(params, "nbd+unix://", 11) == 0) {
		p->kind = BLKBK_BACKING_NBD;
		return parse_nbd_unix(params + 11, p, why);
	}
	p->kind = BLKBK_BACKING_FILE;
	for (size_t i = 0; i < sizeof(raw_prefixes) / sizeof(raw_prefixes[0]);
	     i++) {
		size_t n = strlen(raw_prefixes[i]);

		if (strncmp(params, raw_prefixes[i], n) == 0) {
			path = params + n;
			if (i == 1)
				p->phy = 1;
			break;
		}
	}
	if (path == params && strchr(params, ':') && params[0] != '/') {
		*why = "unknown params prefix";
		return -EINVAL;
	}
	if (type && *type) {
		if (strcmp(type, "phy") == 0)
			p->phy = 1;
		else if (strcmp(type, "file") != 0) {
			*why = "type must be file or phy";
			return -EINVAL;
		}
	}
	if (path[0] != '/') {
		*why = "path must be absolute";
		return -EINVAL;
	}
	if (copy_str(p->path, sizeof(p->path), path, strlen(path)) < 0) {
		*why = "path too long";
		return -EINVAL;
	}
	return 0;
}

void blkbk_params_desc(const struct blkbk_params *p, char *buf, size_t len)
{
	if (p->kind == BLKBK_BACKING_FILE)
		snprintf(buf, len, "%s:%s", p->phy ? "phy" : "file", p->path);
	else if (p->socket[0])
		snprintf(buf, len, "nbd+unix:///%s?socket=%s", p->export_name,
			 p->socket);
	else
		snprintf(buf, len, "nbd://%s:%s/%s", p->host, p->port,
			 p->export_name);
}
