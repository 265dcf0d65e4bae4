/*
 * perms.h - permission lists: parse, format, check (perms.c).
 */
#ifndef XENSTORED_PERMS_H
#define XENSTORED_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xs_buf;

#define XS_P_NONE  0x0
#define XS_P_READ  0x1
#define XS_P_WRITE 0x2
#define XS_P_OWNER 0x8 /* only as a requested right, never stored */

struct xs_perm {
	uint32_t domid;
	uint8_t perm; /* XS_P_READ | XS_P_WRITE */
};

/*
 * xs_perms_parse - parse n NUL-terminated strings ("r5", "b0", ...) at s
 * (len bytes) into out[n]. 0 or -EINVAL.
 */
int xs_perms_parse(const char *s, size_t len, unsigned n, struct xs_perm *out);
/* xs_perms_format - append "n0\0r5\0..." to b; 0 or -ENOMEM. */
int xs_perms_format(struct xs_buf *b, const struct xs_perm *p, unsigned n);
/*
 * xs_perms_for - the rights (XS_P_*) a caller has on a node with perms p.
 * privileged callers and the owner (p[0]) get everything, so does a caller
 * whose target domain owns the node; otherwise the first entry naming the
 * caller (or its target, or DOMID_ANY) applies, else the default
 * (p[0].perm). An owner of DOMID_ANY gives every domain every right.
 */
unsigned xs_perms_for(const struct xs_perm *p, unsigned n, uint32_t domid,
		      bool privileged, int target);

#endif /* XENSTORED_PERMS_H */
