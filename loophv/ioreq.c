/*
 * ioreq.c - device-model state of a loopback domain: ioreq servers (their
 * shared pages and claimed I/O ranges) and interrupt line levels.
 *
 * An ioreq server's pages are a memfd of two pages in Xen's resource order
 * (XENMEM_resource_ioreq_server): frame 0 is the buffered ioreq page, frame
 * 1 the synchronous shared_iopage_t. The device model maps them with
 * hv_foreignmem_map_resource().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/memory.h>

#include "loophv/loophvd.h"

#define IOREQ_PAGES 2

static struct lh_ioreq_server *server(struct lh_domain *d, unsigned int id)
{
	if (id >= LH_MAX_IOREQ_SERVERS || !d->ioreq[id].used)
		return NULL;
	return &d->ioreq[id];
}

int lh_dm_create(struct lh_domain *d, int bufioreq)
{
	for (unsigned int id = 0; id < LH_MAX_IOREQ_SERVERS; id++) {
		struct lh_ioreq_server *sv = &d->ioreq[id];

		if (sv->used)
			continue;
		memset(sv, 0, sizeof(*sv));
		/* Sealed: its size never changes under a mapping. */
		sv->memfd = lh_sealed_memfd("loophv-ioreq",
					    IOREQ_PAGES * HV_PAGE_SIZE, 0, NULL);
		if (sv->memfd < 0)
			return -errno;
		sv->used = 1;
		sv->bufioreq = !!bufioreq;
		return (int)id;
	}
	return -ENOSPC;
}

int lh_dm_info(struct lh_domain *d, unsigned int id, struct lh_dm_info *out)
{
	struct lh_ioreq_server *sv = server(d, id);

	if (!sv)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->enabled = (uint32_t)sv->enabled;
	out->nr_ranges = sv->nranges;
	/* No buffered-ioreq event channel on the loopback yet: the vCPU side
	 * of ioreqs is not implemented (see README). */
	out->bufioreq_port = 0;
	return 0;
}

static int overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 <= b1 && b0 <= a1;
}

int lh_dm_range(struct lh_domain *d, unsigned int id, int map, uint32_t type,
		uint64_t start, uint64_t end)
{
	struct lh_ioreq_server *sv = server(d, id);

	if (!sv)
		return -ENOENT;
	if (type > HV_IO_PCI || end < start)
		return -EINVAL;
	if (type == HV_IO_PORT && end > 0xffff)
		return -EINVAL;
	if (!map) {
		for (unsigned int i = 0; i < sv->nranges; i++) {
			if (sv->ranges[i].type == type &&
			    sv->ranges[i].start == start &&
			    sv->ranges[i].end == end) {
				sv->ranges[i] = sv->ranges[--sv->nranges];
				return 0;
			}
		}
		return -ENOENT;
	}
	/* As Xen: a range may be claimed by one server only. */
	for (unsigned int s = 0; s < LH_MAX_IOREQ_SERVERS; s++) {
		struct lh_ioreq_server *o = &d->ioreq[s];

		for (unsigned int i = 0; o->used && i < o->nranges; i++)
			if (o->ranges[i].type == type &&
			    overlaps(o->ranges[i].start, o->ranges[i].end,
				     start, end))
				return -EEXIST;
	}
	if (sv->nranges == LH_MAX_IO_RANGES)
		return -ENOSPC;
	sv->ranges[sv->nranges].type = type;
	sv->ranges[sv->nranges].start = start;
	sv->ranges[sv->nranges].end = end;
	sv->nranges++;
	return 0;
}

int lh_dm_set_state(struct lh_domain *d, unsigned int id, int enabled)
{
	struct lh_ioreq_server *sv = server(d, id);

	if (!sv)
		return -ENOENT;
	sv->enabled = !!enabled;
	return 0;
}

int lh_dm_destroy(struct lh_domain *d, unsigned int id)
{
	struct lh_ioreq_server *sv = server(d, id);

	if (!sv)
		return -ENOENT;
	close(sv->memfd);
	memset(sv, 0, sizeof(*sv));
	return 0;
}

void lh_dm_destroy_all(struct lh_domain *d)
{
	for (unsigned int id = 0; id < LH_MAX_IOREQ_SERVERS; id++)
		if (d->ioreq[id].used)
			lh_dm_destroy(d, id);
}

int lh_dm_set_irq(struct lh_domain *d, uint32_t type, uint64_t line,
		  unsigned int level)
{
	if (level > 1)
		return -EINVAL;
	if (type == 0) { /* ISA */
		if (line >= 16)
			return -EINVAL;
		d->isa_irq_level[line] = (uint8_t)level;
		return 0;
	}
	if (type == 1) { /* PCI INTx: (sbdf << 8) | intx */
		if ((line & 0xff) > 3 || ((line >> 8) & 0xff) > 0) /* bus 0 */
			return -EINVAL;
		return 0; /* routed through the (absent) emulated PIIX3 */
	}
	return -EINVAL;
}

int lh_dm_resource(struct lh_domain *d, const struct lh_res_args *a, int *fd,
		   struct lh_res *out)
{
	uint64_t size;

	memset(out, 0, sizeof(*out));
	if (a->nr == 0)
		return -EINVAL;
	switch (a->type) {
	case XENMEM_resource_ioreq_server: {
		struct lh_ioreq_server *sv = server(d, a->id);

		if (!sv)
			return -ENOENT;
		size = IOREQ_PAGES * HV_PAGE_SIZE;
		*fd = sv->memfd;
		out->offset = a->frame * HV_PAGE_SIZE;
		break;
	}
	case XENMEM_resource_grant_table:
		/* id 0: shared frames, which live in the guest's RAM. */
		if (a->id != 0)
			return -EINVAL;
		if (a->frame >= d->grant_frames ||
		    a->nr > d->grant_frames - a->frame)
			return -EINVAL;
		size = d->nr_frames * HV_PAGE_SIZE;
		*fd = d->memfd;
		out->offset = (d->gnttab_first + a->frame) * HV_PAGE_SIZE;
		out->size = size;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
	if (a->frame >= IOREQ_PAGES || a->nr > IOREQ_PAGES - a->frame)
		return -EINVAL;
	out->size = size;
	return 0;
}
