/*
 * splitctl.h - what splitctl's command files share (splitctl.c,
 * splitctl-monitor.c).
 */
#ifndef SPLITDRV_TOOLS_SPLITCTL_H
#define SPLITDRV_TOOLS_SPLITCTL_H

#include <xenstore.h>

#include "hv.h"

/*
 * splitctl_read - the value at the printf-style path (in transaction t,
 * XBT_NULL for none), NUL-terminated and malloc'd; NULL when absent (errno
 * set) or when the path does not fit.
 */
char *splitctl_read(struct xs_handle *xs, xs_transaction_t t, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* splitctl_state - backend be's XenbusState, or -1 when it has none. */
int splitctl_state(struct xs_handle *xs, xs_transaction_t t, const char *be);
/* splitctl_parse_uint - s, all decimal digits, as a number <= max into
 * *out. 0 or -1 (nothing printed). */
int splitctl_parse_uint(const char *s, unsigned long max, unsigned long *out);

/*
 * splitctl_release - what a toolstack does last for a domain that is
 * gone: XS_RELEASE (ENOENT, xenstored released it already, is fine),
 * then remove /local/domain/DOMID and every backend/<type>/DOMID
 * directory of dom0. Returns 0, or -1 after a message on stderr.
 */
int splitctl_release(struct xs_handle *xs, domid_t domid);

/*
 * splitctl_monitor - the `monitor` command: argv[0] is "monitor", the
 * rest its options. hvo is the hypervisor to watch (run_dir filled).
 * Returns the exit status: 0, 1 on failure, 2 on bad usage.
 */
int splitctl_monitor(int argc, char **argv, struct hv_open_opts *hvo);

#endif /* SPLITDRV_TOOLS_SPLITCTL_H */
