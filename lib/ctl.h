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
 *
 * Details: "args", when present, must be an object (or null). A request's
 * "id" (any JSON value) is echoed in its reply so that a client may
 * pipeline requests. Blank lines are ignored. At most 64 clients at a
 * time (more are closed at once). Replies are compact JSON,
 * one per line, in request order. All of it runs on the event_base's
 * thread; handlers must not call ctl_close().
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
/* ctl_add_cmd - register a command; help is a one-line description
 * (both copied). 0, -EEXIST (a built-in or already registered name),
 * -EINVAL (empty name or over 63 bytes) or -ENOMEM. */
int ctl_add_cmd(struct ctl *ctl, const char *name, const char *help,
		ctl_cmd_fn fn, void *arg);

/*
 * What the daemon adds to "status" and what "stats" returns: fn adds its
 * members to obj (borrowed; "status" already holds daemon, version, pid
 * and uptime_s, "stats" starts empty). Return 0, or -errno to make the
 * request fail with strerror. Passing fn NULL removes the callback.
 */
typedef int (*ctl_info_fn)(void *arg, json_t *obj);
void ctl_set_status_fn(struct ctl *ctl, ctl_info_fn fn, void *arg);
void ctl_set_stats_fn(struct ctl *ctl, ctl_info_fn fn, void *arg);
/* ctl_close - stop listening, drop clients, unlink the socket path. */
void ctl_close(struct ctl *ctl);

/*
 * ctl_request - client side, blocking: send {"cmd": cmd, "args": args} to
 * the socket at path, wait up to timeout_ms (< 0: forever) for the reply.
 * args is borrowed and may be NULL. Returns the reply object (new
 * reference; {"ok": false, ...} replies included) or NULL with errno:
 * ETIMEDOUT, ECONNRESET (closed before a whole reply), EPROTO (the reply
 * is not a JSON object), or the socket's error (ENOENT, ECONNREFUSED...).
 */
json_t *ctl_request(const char *path, const char *cmd, json_t *args,
		    int timeout_ms);

#endif /* SPLITDRV_CTL_H */
