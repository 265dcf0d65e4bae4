/*
 * perms.c - node permissions.
 *
 * A node's permission list is "<letter><domid>" entries: n (none), r
 * (read), w (write), b (both). The first entry names the owner, and its
 * letter is the default for every domain not listed. The owner, privileged
 * connections (dom0 tools) and a domain whose XS_SET_TARGET target is the
 * owner have every right. An entry naming DOMID_ANY (0x7FF5, Xen 4.21)
 * matches every domain, as in C xenstored: "b0 r32757" lets every domain
 * read. See Xen's docs/misc/xenstore.txt.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs-wire-compat.h"
#include "xenstored/perms.h"
#include "xenstored/util.h"

static int perm_letter(char c)
{
	switch (c) {
	case 'n':
		return XS_P_NONE;
	case 'r':
		return XS_P_READ;
	case 'w':
		return XS_P_WRITE;
	case 'b':
		return XS_P_READ | XS_P_WRITE;
	default:
		return -1;
	}
}

/* xs_perms_parse - parse n NUL-terminated entries at s; 0 or -EINVAL. */
int xs_perms_parse(const char *s, size_t len, unsigned n, struct xs_perm *out)
{
	const char *end = s + len;
	unsigned i;

	for (i = 0; i < n; i++) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		unsigned long id = 0;
		const char *d;
		int p;

		if (!nul || nul - s < 2)
			return -EINVAL;
		p = perm_letter(s[0]);
		if (p < 0)
			return -EINVAL;
		for (d = s + 1; d < nul; d++) {
			if (*d < '0' || *d > '9')
				return -EINVAL;
			id = id * 10 + (unsigned long)(*d - '0');
			if (id > 65535)
				return -EINVAL;
		}
		out[i].perm = (uint8_t)p;
		out[i].domid = (uint32_t)id;
		s = nul + 1;
	}
	return 0;
}

/* xs_perms_format - append "n0\0r5\0..." to b; 0 or -ENOMEM. */
int xs_perms_format(struct xs_buf *b, const struct xs_perm *p, unsigned n)
{
	static const char letters[] = "nrwb";
	char one[16];
	unsigned i;

	for (i = 0; i < n; i++) {
		snprintf(one, sizeof(one), "%c%u", letters[p[i].perm & 3],
			 p[i].domid);
		if (xs_buf_addstr(b, one))
			return -ENOMEM;
	}
	return 0;
}

/* Does entry e name the caller (domid, or the domain it targets)? */
static bool names_caller(const struct xs_perm *e, uint32_t domid, int target)
{
	return e->domid == domid || e->domid == DOMID_ANY ||
	       (target >= 0 && e->domid == (uint32_t)target);
}

/* xs_perms_for - the rights a caller has on a node with perms p. */
unsigned xs_perms_for(const struct xs_perm *p, unsigned n, uint32_t domid,
		      bool privileged, int target)
{
	unsigned i;

	if (privileged || n == 0 || names_caller(&p[0], domid, target))
		return XS_P_READ | XS_P_WRITE | XS_P_OWNER;
	for (i = 1; i < n; i++)
		if (names_caller(&p[i], domid, target))
			return p[i].perm;
	return p[0].perm;
}
