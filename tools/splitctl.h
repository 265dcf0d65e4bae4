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
/* splitctl_xs_open - xenstored, or NULL after a message on stderr. */
struct xs_handle *splitctl_xs_open(void);
/* splitctl_state - backend be's XenbusState, or -1 when it has none. */
int splitctl_state(struct xs_handle *xs, xs_transaction_t t, const char *be);
/* splitctl_parse_uint - s, all decimal digits, as a number <= max into
 * *out. 0 or -1 (nothing printed). */
int splitctl_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* --wait SEC: how long attach/detach wait for the backend (0: not). */
extern int splitctl_wait_s;

/*
 * The outcome of a wait for the backend: reached (0), or why not. An
 * "error" node carries Linux's xenbus_dev_error shape, "<errno> <what>".
 */
enum splitctl_wait_end {
	WAIT_OK = 0,
	WAIT_ERROR,  /* the backend wrote "error" (in *err) */
	WAIT_CLOSED, /* it closed (state 5 or 6) without saying why */
	WAIT_GONE,   /* the backend directory vanished */
	WAIT_TIMEOUT,
	WAIT_INTERRUPTED,
};

/*
 * splitctl_wait_state - until the backend be's state is want (or, with
 * at_least, any of want..Connected), an error key shows up (*err, to
 * free), the device closes, or splitctl_wait_s passes. Progress on
 * stderr, named by what.
 */
enum splitctl_wait_end splitctl_wait_state(struct xs_handle *xs, const char *be,
					   int want, int at_least,
					   const char *what, char **err);
/* splitctl_catch_interrupts - SIGINT/SIGTERM end a wait instead. */
void splitctl_catch_interrupts(void);
/* splitctl_error_words - an "error" node's "<errno> <what>" in words. */
void splitctl_error_words(const char *err, char *buf, size_t len);
/* splitctl_check_domain - the guest exists and is not on its way out.
 * 0, or -1 with the reason in buf. */
int splitctl_check_domain(struct xs_handle *xs, domid_t domid, char *buf,
			  size_t len);
/* splitctl_close_backend - online=0, Closing, up to timeout_s for
 * Closed (when a backend drives the device). */
void splitctl_close_backend(struct xs_handle *xs, const char *be, int timeout_s);
/* splitctl_remove_device - be and fe removed in one transaction. 0/-1. */
int splitctl_remove_device(struct xs_handle *xs, const char *be, const char *fe);
/* splitctl_attach_wait - after an attach: wait for the backend, then the
 * frontend; on failure say why (after "splitctl: what: "), remove both
 * and return 1; 0 when Connected. See splitctl.c. */
int splitctl_attach_wait(struct xs_handle *xs, const char *be, const char *fe,
			 const char *daemon, const char *frontend,
			 const char *what, const char *undo);
/* splitctl_detach - libxl's removal of a device (see splitctl.c). */
int splitctl_detach(struct xs_handle *xs, const char *be, const char *fe,
		    const char *name, domid_t domid, const char *daemon,
		    int untaken_too);

/* The network commands (splitctl-net.c): exit statuses as main's. */
int splitctl_network_attach(domid_t domid, char **args, int nargs);
int splitctl_network_detach(domid_t domid, const char *which);
int splitctl_network_list(domid_t domid);

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
