/*
 * xen-ring.h - <xen/io/ring.h> with the barriers it needs: include this,
 * never <xen/io/ring.h> directly.
 *
 * <xen/io/ring.h> (interface version 0, as Debian ships it for tools)
 * expands xen_mb()/xen_rmb()/xen_wmb() to mb()/rmb()/wmb(), which the
 * includer must provide. The other end of a ring is another domain on
 * other CPUs, so these are real fences:
 *   mb()   full: publish our producer index before reading the other
 *          side's event index (RING_PUSH_*_AND_CHECK_NOTIFY,
 *          RING_FINAL_CHECK_FOR_*);
 *   rmb()  acquire: read the slots only after the producer index;
 *   wmb()  release: slot contents visible before the producer index.
 */
#ifndef SPLITDRV_XEN_RING_H
#define SPLITDRV_XEN_RING_H

#ifndef mb
#define mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#include <xen/io/ring.h>

#endif /* SPLITDRV_XEN_RING_H */
