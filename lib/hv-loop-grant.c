/*
 * hv-loop-grant.c - grant checks of the loop provider (mapper side).
 *
 * A domain grants a page by writing a grant_entry_v1 in its own grant
 * table, which lives in its RAM (the last grant_frames frames). dom0 maps
 * that RAM and checks each entry the way Xen does: one compare-and-swap on
 * the (flags, domid) word that checks GTF_permit_access, the domid and
 * GTF_readonly and sets GTF_reading (+ GTF_writing) in the same step, so
 * the guest cannot change the entry between the check and the pin. The
 * frame is read once, after the pin. Pins are counted per ref in this
 * process and the flags cleared when the last one goes.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "hv.h"
#include "hv-loop-grant.h"

_Static_assert(sizeof(grant_entry_v1_t) == 8, "grant_entry_v1 layout");
_Static_assert(offsetof(grant_entry_v1_t, domid) == 2, "grant_entry_v1 domid");
_Static_assert(offsetof(grant_entry_v1_t, frame) == 4, "grant_entry_v1 frame");

int hv_loop_grants_init(struct hv_loop_grants *g, uint8_t *ram,
			uint64_t gnttab_first, uint32_t grant_frames)
{
	g->table = (grant_entry_v1_t *)(ram + gnttab_first * HV_PAGE_SIZE);
	g->gnttab_first = gnttab_first;
	g->nr_refs = grant_frames *
		     (uint32_t)(HV_PAGE_SIZE / sizeof(grant_entry_v1_t));
	g->rd_pins = calloc(g->nr_refs, sizeof(uint16_t));
	g->wr_pins = calloc(g->nr_refs, sizeof(uint16_t));
	if (!g->rd_pins || !g->wr_pins) {
		hv_loop_grants_fini(g);
		return -ENOMEM;
	}
	return 0;
}

void hv_loop_grants_fini(struct hv_loop_grants *g)
{
	free(g->rd_pins);
	free(g->wr_pins);
	g->rd_pins = g->wr_pins = NULL;
}

/* clear_pin_flags - undo of a pin: clear what no pin of ours holds. */
static void clear_pin_flags(struct hv_loop_grants *g, grant_ref_t ref,
			    grant_entry_v1_t *ge)
{
	if (!g->wr_pins[ref])
		__atomic_fetch_and(&ge->flags, (uint16_t)~GTF_writing,
				   __ATOMIC_RELEASE);
	if (!g->rd_pins[ref])
		__atomic_fetch_and(&ge->flags, (uint16_t)~GTF_reading,
				   __ATOMIC_RELEASE);
}

/*
 * Worked example: the guest wrote {flags = GTF_permit_access |
 * GTF_readonly, domid = 0, frame = 42}. A read-only pin CASes flags to
 * permit|readonly|reading and returns 42; a writable pin fails with
 * -EACCES without touching the entry.
 */
int64_t hv_loop_grant_pin(struct hv_loop_grants *g, domid_t mydomid,
			  grant_ref_t ref, int writable)
{
	grant_entry_v1_t *ge;
	uint32_t *word, old, want;
	uint32_t frame;
	int tries = 0;

	if (ref >= g->nr_refs)
		return -EINVAL;
	if (g->rd_pins[ref] == UINT16_MAX)
		return -EBUSY; /* our pin count of this ref is full */
	ge = &g->table[ref];
	/* flags (low 16 bits) and domid (high 16 bits) as one word, so the
	 * check and the pin are one atomic step. */
	word = (uint32_t *)(void *)&ge->flags;
	old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	for (;;) {
		uint16_t flags = (uint16_t)(old & 0xffff);
		uint16_t dom = (uint16_t)(old >> 16);

		if ((flags & GTF_type_mask) != GTF_permit_access)
			return -EINVAL;
		if (dom != mydomid)
			return -EACCES;
		if (writable && (flags & GTF_readonly))
			return -EACCES;
		want = old | GTF_reading | (writable ? GTF_writing : 0);
		if (__atomic_compare_exchange_n(word, &old, want, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
		if (++tries > 64)
			return -EBUSY; /* a guest flipping the entry */
	}
	/* Read the frame once, after the pin; use only this copy. */
	frame = __atomic_load_n(&ge->frame, __ATOMIC_ACQUIRE);
	g->rd_pins[ref]++;
	if (writable)
		g->wr_pins[ref]++;
	if (frame >= g->gnttab_first) {
		/* Not a RAM frame the guest may grant: undo. */
		g->rd_pins[ref]--;
		if (writable)
			g->wr_pins[ref]--;
		clear_pin_flags(g, ref, ge);
		return -EINVAL;
	}
	return frame;
}

void hv_loop_grant_unpin(struct hv_loop_grants *g, grant_ref_t ref, int writable)
{
	grant_entry_v1_t *ge = &g->table[ref];

	if (writable && g->wr_pins[ref] && --g->wr_pins[ref] == 0)
		__atomic_fetch_and(&ge->flags, (uint16_t)~GTF_writing,
				   __ATOMIC_RELEASE);
	if (g->rd_pins[ref] && --g->rd_pins[ref] == 0)
		__atomic_fetch_and(&ge->flags, (uint16_t)~GTF_reading,
				   __ATOMIC_RELEASE);
}
