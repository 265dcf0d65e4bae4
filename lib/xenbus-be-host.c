/*
 * xenbus-be-host.c - a backend daemon's handles around its xbe (see
 * xenbus-be-host.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "xenbus-be-host.h"

/* on_domain_event - a dead frontend domain's devices are released at
 * once; SHUTDOWN is the toolstack's business (it may restart it). */
static void on_domain_event(evutil_socket_t fd, short what, void *arg)
{
	struct xbe_host *h = arg;
	int domid;

	(void)fd;
	(void)what;
	while ((domid = hv_domains_next_dead(h->doms)) >= 0) {
		unsigned int n = xbe_domain_dead(h->xbe, (domid_t)domid);

		if (n)
			log_info_dev(domid, NULL, "domain dead: %u %s released",
				     n, h->what);
	}
	if (domid == -EPIPE) {
		log_errx("the hypervisor connection is gone: no more domain "
			 "death events (a dead guest's %s are released when "
			 "the toolstack removes them)",
			 h->what);
		event_del(h->dom_ev);
	} else if (domid != -EAGAIN) {
		log_errno(LOG_WARNING, domid, "domain events");
	}
}

static int watch_domains(struct xbe_host *h)
{
	h->doms = hv_domains_open(h->hv);
	if (!h->doms) {
		log_warn("domain events unavailable: a dead guest's %s are "
			 "released only when the toolstack removes them",
			 h->what);
		return 0;
	}
	h->dom_ev = event_new(h->base, hv_domains_fd(h->doms),
			      EV_READ | EV_PERSIST, on_domain_event, h);
	if (!h->dom_ev || event_add(h->dom_ev, NULL) < 0) {
		log_errx("event_new for domain events failed");
		return -1;
	}
	/* events queued before the event was added */
	event_active(h->dom_ev, EV_READ, 0);
	return 0;
}

int xbe_host_open(struct xbe_host *h, struct event_base *base,
		  const struct daemon_opts *o, domid_t backend_domid,
		  const char *type, const struct xbe_driver_ops *ops, void *arg,
		  const char *what)
{
	struct hv_open_opts ho = { .provider = o->hv, .run_dir = o->run_dir };

	memset(h, 0, sizeof(*h));
	h->base = base;
	h->what = what;
	h->hv = hv_open(&ho);
	if (!h->hv) {
		log_err("cannot open the hypervisor (%s)",
			hv_provider_name(o->hv));
		return -1;
	}
	h->gnttab = hv_gnttab_open(h->hv);
	h->evtchn = hv_evtchn_open(h->hv);
	if (!h->gnttab || !h->evtchn) {
		log_err("grant table / event channel handles");
		return -1;
	}
	h->mux = evtchn_mux_new(base, h->evtchn);
	h->xs = xs_open(0);
	if (!h->mux || !h->xs) {
		log_err("cannot reach xenstored");
		return -1;
	}
	h->xbe = xbe_new(base, h->xs, backend_domid, type, ops, arg);
	if (!h->xbe) {
		log_err("watching backend/%s", type);
		return -1;
	}
	return watch_domains(h);
}

void xbe_host_close(struct xbe_host *h)
{
	if (h->dom_ev)
		event_free(h->dom_ev);
	hv_domains_close(h->doms);
	xbe_free(h->xbe);
	if (h->xs)
		xs_close(h->xs);
	evtchn_mux_free(h->mux);
	hv_evtchn_close(h->evtchn);
	hv_gnttab_close(h->gnttab);
	hv_close(h->hv);
	memset(h, 0, sizeof(*h));
}

struct dev_list {
	json_t *arr;
	json_t *(*dev_json)(struct xbe_device *);
};

static void add_dev(struct xbe_device *d, void *arg)
{
	struct dev_list *l = arg;

	json_array_append_new(l->arr, l->dev_json(d));
}

void xbe_host_devices(struct xbe_host *h, json_t *obj, domid_t backend_domid,
		      const char *type, json_t *(*dev_json)(struct xbe_device *))
{
	struct dev_list l = { json_array(), dev_json };

	xbe_foreach(h->xbe, add_dev, &l);
	json_object_set_new(obj, "hv",
			    json_string(hv_provider_name(hv_provider(h->hv))));
	json_object_set_new(obj, "backend-domid", json_integer(backend_domid));
	json_object_set_new(obj, "type", json_string(type));
	json_object_set_new(obj, "devices", l.arr);
}
