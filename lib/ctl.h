/*
 * ctl.h - the JSON control socket every daemon serves.
 *
 * A unix stream socket (mode 0600) at a path the daemon chooses, usually
 * <run_dir>/<daemon>.ctl. Protocol: one JSON object per line in each
 * direction.
 *   request:  {"cmd": "status"} or {"cmd": "stats", "args": {...}}
 *   reply:    {"ok": true, "result": {...}}
 *             {"ok": false, "error": "unknown command 'x'"}
 * Built in: "status" (daemon, version, pid, uptime_s plus what the daemon
 * adds through its status callback), "stats" (the daemon's stats callback),
 * "help" (the list of commands). Daemons register more with ctl_add_cmd().
 * A malformed line gets an error reply; a line over 64 KiB closes that
 * client only.
 */
#ifndef SPLITDRV_CTL_H
#define SPLITDRV_CTL_H

#include <event2/event.h>
#include <jansson.h>

struct ctl;

/*
 * A command handler: args is the request's "args" (may be NULL, borrowed).
 * On success set *result to a new reference (or leave NULL for {}) and
 * return 0; on failure return -errno and optionally set *errmsg to a
 * malloc'd message (else strerror is used).
 */
typedef int (*ctl_cmd_fn)(void *arg, json_t *args, json_t **result,
			  char **errmsg);

/*
 * ctl_open - listen on path (an existing stale socket is replaced).
 * daemon_name and version appear in "status". NULL with errno.
 */
struct ctl *ctl_open(struct event_base *base, const char *path,
		     const char *daemon_name, const char *version);
/* ctl_add_cmd - register a command; help is a one-line description. */
int ctl_add_cmd(struct ctl *ctl, const char *name, const char *help,
		ctl_cmd_fn fn, void *arg);
/* ctl_close - stop listening, drop clients, unlink the socket path. */
void ctl_close(struct ctl *ctl);

/*
 * ctl_request - client side, blocking: send {"cmd": cmd, "args": args} to
 * the socket at path, wait up to timeout_ms for the reply. Returns the
 * reply object (new reference) or NULL with errno.
 */
json_t *ctl_request(const char *path, const char *cmd, json_t *args,
		    int timeout_ms);

#endif /* SPLITDRV_CTL_H */
