/*
 * xs-wire-compat.h - the xenstore wire constants newer than the Xen 4.17
 * headers Debian 12 ships (<xen/io/xs_wire.h>), each defined once, here,
 * only when the installed header lacks it, with the Xen release whose
 * xs_wire.h has it (4.21, the numbered table of docs/misc/xenstore.txt).
 */
#ifndef SPLITDRV_XS_WIRE_COMPAT_H
#define SPLITDRV_XS_WIRE_COMPAT_H

#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

/*
 * Xen 4.21: per-domain server features and quotas as messages
 * (docs/misc/xenstore.txt: GET_FEATURE, SET_FEATURE, GET_QUOTA,
 * SET_QUOTA), and the ring page's WATCHDEPTH and DOMID_ANY features. The
 * message types are enum constants upstream, which #ifndef cannot see:
 * the feature bits that came with them tell the header's age.
 */
#ifndef XENSTORE_SERVER_FEATURE_WATCHDEPTH
#define XS_GET_FEATURE                     23
#define XS_SET_FEATURE                     24
#define XS_GET_QUOTA                       25
#define XS_SET_QUOTA                       26
/* one past the last type this suite knows (4.17's XS_TYPE_COUNT is 23) */
#define SPLITDRV_XS_TYPE_COUNT             27
/* WATCH takes a depth argument; @releaseDomain/<domid> and
 * @introduceDomain/<domid> (Xen 4.21) */
#define XENSTORE_SERVER_FEATURE_WATCHDEPTH 4
#else
#define SPLITDRV_XS_TYPE_COUNT XS_TYPE_COUNT
#endif

#ifndef XENSTORE_SERVER_FEATURE_DOMID_ANY
/* DOMID_ANY (0x7FF5) allowed in permissions (Xen 4.21) */
#define XENSTORE_SERVER_FEATURE_DOMID_ANY 8
#endif

#ifndef DOMID_ANY
/* "any domain", in xenstore permissions (Xen 4.21 <xen/xen.h>) */
#define DOMID_ANY 0x7FF5U
#endif

/*
 * The ring page's evtchn_port field (Xen 4.21): the event channel the
 * guest uses, when non-zero. 4.17's struct xenstore_domain_interface
 * ends with `error`; the field follows it, at offset 2076.
 */
#define SPLITDRV_XS_RING_EVTCHN_PORT_OFFSET                                    \
	(offsetof(struct xenstore_domain_interface, error) + sizeof(uint32_t))
_Static_assert(SPLITDRV_XS_RING_EVTCHN_PORT_OFFSET == 2076,
	       "evtchn_port is at offset 2076 of the xenstore ring page");

/* splitdrv_xs_ring_evtchn_port - the evtchn_port field of a ring page
 * (guest memory: load it once, atomically). */
static inline uint32_t *
splitdrv_xs_ring_evtchn_port(struct xenstore_domain_interface *intf)
{
	return (uint32_t *)((char *)intf + SPLITDRV_XS_RING_EVTCHN_PORT_OFFSET);
}

#endif
