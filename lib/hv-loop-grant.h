/*
 * hv-loop-grant.h - the loop provider's grant checks (lib/hv-loop.c's
 * mapper side): validate and pin the grant entries a domain wrote in its
 * own grant table, which dom0 sees in its mapping of the domain's RAM.
 * Private to libsplitdrv.
 */
#ifndef SPLITDRV_HV_LOOP_GRANT_H
#define SPLITDRV_HV_LOOP_GRANT_H

#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

/* One domain's grant table as a mapper sees it, and this process's pins
 * of its entries. */
struct hv_loop_grants {
	grant_entry_v1_t *table; /* in the mapper's mapping of guest RAM */
	uint32_t nr_refs;
	uint64_t gnttab_first; /* frames from here on are not grantable */
	uint16_t *rd_pins, *wr_pins;
};

/* hv_loop_grants_init - g over the grant frames of ram (nr_frames pages,
 * the last grant_frames of them the table); 0 or -ENOMEM. */
int hv_loop_grants_init(struct hv_loop_grants *g, uint8_t *ram,
			uint64_t gnttab_first, uint32_t grant_frames);
/* hv_loop_grants_fini - free the pin counts (the entries are left). */
void hv_loop_grants_fini(struct hv_loop_grants *g);

/* hv_loop_grant_pin - validate and pin ref for a mapping by mydomid:
 * the frame (>= 0) or -EINVAL (bad ref, not a permit_access entry, frame
 * outside granted RAM), -EACCES (other domid, write to a read-only grant),
 * -EBUSY (pin count full, or the guest keeps flipping the entry). */
int64_t hv_loop_grant_pin(struct hv_loop_grants *g, domid_t mydomid,
			  grant_ref_t ref, int writable);
/* hv_loop_grant_unpin - drop one pin of ref; the last one clears
 * GTF_reading (GTF_writing) in the entry. */
void hv_loop_grant_unpin(struct hv_loop_grants *g, grant_ref_t ref,
			 int writable);

#endif /* SPLITDRV_HV_LOOP_GRANT_H */
