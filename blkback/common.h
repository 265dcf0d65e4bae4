/*
 * common.h - blkback's shared types: the device, its queues (one ring and
 * one event channel each), the request as blkback holds it after copying it
 * out of the shared ring, per-device stats, and the interface the xenbus
 * glue calls.
 *
 * Data path in one picture (ring.c):
 *
 *   guest ring slot --copy once--> struct blkbk_req --validate--> map grants
 *   (x86_32/x86_64/native layout)   (one canonical form)          (batch or
 *                                                                  pcache)
 *        --> struct blkbk_io --backing->submit/kick--> io_uring / NBD
 *        <-- done(): unmap, response in the ring, push + notify per batch
 *
 * Sector quantities on the ring are 512-byte units (no
 * feature-large-sector-size); a backing with a larger logical block size
 * needs requests aligned to it.
 */
#ifndef SPLITDRV_BLKBACK_COMMON_H
#define SPLITDRV_BLKBACK_COMMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xen-ring.h" /* before blkif.h: it includes ring.h */
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#include <event2/event.h>

#include "hv.h"
#include "log.h"
#include "blkback/backing.h"

struct evtchn_mux;
struct gnt_pcache;

/* ------------------------------------------------------------------ */
/* Limits and features                                                */
/* ------------------------------------------------------------------ */

#define BLKBK_SECTOR_SHIFT      9
#define BLKBK_SECTOR_SIZE       (1u << BLKBK_SECTOR_SHIFT)
#define BLKBK_SECTORS_PER_PAGE  (HV_PAGE_SIZE >> BLKBK_SECTOR_SHIFT)
/* feature-max-indirect-segments (Linux's MAX_INDIRECT_SEGMENTS too) */
#define BLKBK_MAX_INDIRECT_SEGS 256
/* segments per indirect page: 512 */
#define BLKBK_SEGS_PER_INDIRECT_PAGE                                           \
	(HV_PAGE_SIZE / sizeof(struct blkif_request_segment))
#define BLKBK_MAX_INDIRECT_PAGES                                               \
	((BLKBK_MAX_INDIRECT_SEGS + BLKBK_SEGS_PER_INDIRECT_PAGE - 1) /        \
	 BLKBK_SEGS_PER_INDIRECT_PAGE)
/* max-ring-page-order */
#define BLKBK_MAX_RING_ORDER    4
/* multi-queue-max-queues */
#define BLKBK_MAX_QUEUES        16
/* persistent grants kept per queue, whatever the ring order (Linux: 1056,
 * RING_SIZE * 11 of a one-page ring): bounds the mappings a guest can pin */
#define BLKBK_PERSISTENT_GRANTS 1056

_Static_assert(BLKBK_MAX_INDIRECT_PAGES <= BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
	       "indirect pages fit in blkif_request_indirect");

/* ------------------------------------------------------------------ */
/* The x86_32 and x86_64 ring layouts                                  */
/* ------------------------------------------------------------------ */

/*
 * <xen/io/blkif.h> defines the native layout only. A 32-bit x86 guest on a
 * 64-bit dom0 (protocol = "x86_32-abi") lays out 64-bit fields on 4-byte
 * boundaries; the x86_64 layout is spelled out too so that it is right on
 * any host. Only request and response bodies differ: the shared ring header
 * (req_prod, req_event, rsp_prod, rsp_event, 48 bytes of padding) is the
 * same, and so are the indirect segment pages (struct
 * blkif_request_segment is 8 bytes in every ABI).
 */
enum blkbk_abi {
	BLKBK_ABI_NATIVE = 0,
	BLKBK_ABI_X86_32,
	BLKBK_ABI_X86_64,
};

#pragma pack(push, 4)
struct blkif_x86_32_request {
	uint8_t operation;
	uint8_t nr_segments;
	blkif_vdev_t handle;
	uint64_t id;
	blkif_sector_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct blkif_x86_32_request_discard {
	uint8_t operation;
	uint8_t flag;
	blkif_vdev_t handle;
	uint64_t id;
	blkif_sector_t sector_number;
	uint64_t nr_sectors;
};
struct blkif_x86_32_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint64_t id;
	blkif_sector_t sector_number;
	blkif_vdev_t handle;
	uint16_t _pad1;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint64_t _pad2; /* 64 bytes, as i386's own header has it */
};
struct blkif_x86_32_response {
	uint64_t id;
	uint8_t operation;
	int16_t status;
};
#pragma pack(pop)

#define BLKBK_U64A __attribute__((aligned(8)))
struct blkif_x86_64_request {
	uint8_t operation;
	uint8_t nr_segments;
	blkif_vdev_t handle;
	uint64_t BLKBK_U64A id;
	blkif_sector_t BLKBK_U64A sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct blkif_x86_64_request_discard {
	uint8_t operation;
	uint8_t flag;
	blkif_vdev_t handle;
	uint64_t BLKBK_U64A id;
	blkif_sector_t BLKBK_U64A sector_number;
	uint64_t BLKBK_U64A nr_sectors;
};
struct blkif_x86_64_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint64_t BLKBK_U64A id;
	blkif_sector_t BLKBK_U64A sector_number;
	blkif_vdev_t handle;
	uint16_t _pad1;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
} BLKBK_U64A;
struct blkif_x86_64_response {
	uint64_t BLKBK_U64A id;
	uint8_t operation;
	int16_t status;
};

DEFINE_RING_TYPES(blkif_x86_32, struct blkif_x86_32_request,
		  struct blkif_x86_32_response);
DEFINE_RING_TYPES(blkif_x86_64, struct blkif_x86_64_request,
		  struct blkif_x86_64_response);

/* The layouts as Linux and Xen document them (ABI, not taste). */
_Static_assert(sizeof(struct blkif_request_segment) == 8, "segment");
_Static_assert(offsetof(struct blkif_x86_32_request, id) == 4, "x32 id");
_Static_assert(offsetof(struct blkif_x86_32_request, sector_number) == 12,
	       "x32 sector");
_Static_assert(offsetof(struct blkif_x86_32_request, seg) == 20, "x32 seg");
_Static_assert(sizeof(struct blkif_x86_32_request) == 108, "x32 req");
_Static_assert(offsetof(struct blkif_x86_32_request_discard, nr_sectors) == 20,
	       "x32 discard");
_Static_assert(offsetof(struct blkif_x86_32_request_indirect, handle) == 20,
	       "x32 ind handle");
_Static_assert(offsetof(struct blkif_x86_32_request_indirect, indirect_grefs) ==
		       24,
	       "x32 ind grefs");
_Static_assert(sizeof(struct blkif_x86_32_request_indirect) == 64, "x32 ind");
_Static_assert(offsetof(struct blkif_x86_32_response, status) == 10, "x32 rsp");
_Static_assert(sizeof(struct blkif_x86_32_response) == 12, "x32 rsp size");
_Static_assert(offsetof(struct blkif_x86_64_request, id) == 8, "x64 id");
_Static_assert(offsetof(struct blkif_x86_64_request, sector_number) == 16,
	       "x64 sector");
_Static_assert(offsetof(struct blkif_x86_64_request, seg) == 24, "x64 seg");
_Static_assert(sizeof(struct blkif_x86_64_request) == 112, "x64 req");
_Static_assert(offsetof(struct blkif_x86_64_request_discard, nr_sectors) == 24,
	       "x64 discard");
_Static_assert(offsetof(struct blkif_x86_64_request_indirect, handle) == 24,
	       "x64 ind handle");
_Static_assert(offsetof(struct blkif_x86_64_request_indirect, indirect_grefs) ==
		       28,
	       "x64 ind grefs");
_Static_assert(sizeof(struct blkif_x86_64_request_indirect) == 64, "x64 ind");
_Static_assert(sizeof(struct blkif_x86_64_response) == 16, "x64 rsp");
_Static_assert(offsetof(struct blkif_sring, ring) == 64, "sring header");
_Static_assert(offsetof(struct blkif_x86_32_sring, ring) == 64, "x32 header");
_Static_assert(offsetof(struct blkif_x86_64_sring, ring) == 64, "x64 header");
#if defined(__x86_64__)
_Static_assert(sizeof(struct blkif_request) == 112, "native is x86_64");
#endif

/*
 * blkbk_parse_protocol - the frontend's `protocol` key: NULL or "" is
 * native; "x86_32-abi", "x86_64-abi", or the native name. -EINVAL else.
 */
int blkbk_parse_protocol(const char *s, enum blkbk_abi *out);
/* blkbk_abi_name - "native", "x86_32-abi", "x86_64-abi". */
const char *blkbk_abi_name(enum blkbk_abi abi);
/* blkbk_ring_size - requests per ring of 2^order pages in this ABI. */
unsigned int blkbk_ring_size(enum blkbk_abi abi, unsigned int order);

/* ------------------------------------------------------------------ */
/* A request, copied out of the ring                                   */
/* ------------------------------------------------------------------ */

/*
 * The canonical form of one request, whatever the ABI: filled from a
 * private copy of the ring slot (never from the ring itself), then from a
 * private copy of the indirect pages, and validated here before use.
 */
struct blkbk_req {
	uint8_t operation;    /* as on the ring (BLKIF_OP_INDIRECT stays) */
	uint8_t op;           /* effective: indirect_op for INDIRECT */
	uint8_t discard_flag; /* BLKIF_DISCARD_SECURE */
	uint16_t nr_segments;
	blkif_vdev_t handle;
	uint64_t id;
	uint64_t sector;
	uint64_t nr_sectors; /* discard: as sent; read/write: sum of segments */
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	struct blkif_request_segment seg[BLKBK_MAX_INDIRECT_SEGS];
};

/* What a device accepts (the features it wrote to xenstore). */
struct blkbk_limits {
	uint64_t sectors;           /* device size in 512-byte sectors */
	uint32_t sector_size;       /* backing logical block, bytes */
	uint16_t max_indirect_segs; /* 0: BLKIF_OP_INDIRECT not offered */
	unsigned int readonly : 1;
	unsigned int flush : 1;   /* feature-flush-cache */
	unsigned int barrier : 1; /* feature-barrier */
	unsigned int discard : 1; /* feature-discard */
	unsigned int discard_secure : 1;
};

/*
 * blkbk_req_decode - translate one ring slot, already copied into private
 * memory at slot (sizeof the ABI's request), into r. Fills the header and
 * the direct segments (or the indirect grefs); no validation.
 */
void blkbk_req_decode(enum blkbk_abi abi, const void *slot, struct blkbk_req *r);

/*
 * blkbk_req_check - validate the header of a decoded request against the
 * device: operation known and offered, segment counts, read-only device,
 * discard range. Returns BLKIF_RSP_OKAY or the status to answer with
 * (BLKIF_RSP_ERROR, BLKIF_RSP_EOPNOTSUPP); *why says which rule failed.
 */
int blkbk_req_check(const struct blkbk_req *r, const struct blkbk_limits *l,
		    const char **why);

/*
 * blkbk_req_check_segs - validate the segments (after the indirect pages
 * were copied in): first_sect <= last_sect <= 7, alignment to the
 * backing's logical block, and the sector range within the device. Sets
 * r->nr_sectors. Returns BLKIF_RSP_OKAY or BLKIF_RSP_ERROR with *why.
 */
int blkbk_req_check_segs(struct blkbk_req *r, const struct blkbk_limits *l,
			 const char **why);

/* ------------------------------------------------------------------ */
/* Stats                                                               */
/* ------------------------------------------------------------------ */

enum blkbk_stat_op {
	BLKBK_ST_READ = 0,
	BLKBK_ST_WRITE,
	BLKBK_ST_FLUSH,
	BLKBK_ST_BARRIER,
	BLKBK_ST_DISCARD,
	BLKBK_ST_INDIRECT, /* also counted under READ or WRITE */
	BLKBK_ST_OTHER,    /* unknown operations */
	BLKBK_ST_NR,
};

/* latency buckets: < 2^(i+4) us for i in 0..BLKBK_LAT_BUCKETS-2, then rest */
#define BLKBK_LAT_BUCKETS 16

struct blkbk_stats {
	uint64_t reqs[BLKBK_ST_NR];
	uint64_t bytes_read, bytes_written, sectors_discarded;
	uint64_t errors;       /* BLKIF_RSP_ERROR responses */
	uint64_t eopnotsupp;   /* BLKIF_RSP_EOPNOTSUPP responses */
	uint64_t invalid;      /* of those, requests that failed validation */
	uint64_t grant_errors; /* segment or indirect grants that did not map */
	uint64_t io_errors;    /* the backing said no */
	uint64_t inflight;     /* now */
	uint64_t max_inflight;
	uint64_t notifies_in, notifies_out;
	uint64_t halts; /* queues halted for a corrupt ring */
	uint64_t pgrant_hits, pgrant_misses; /* persistent-grant cache */
	uint64_t pgrant_fallbacks; /* requests mapped the ordinary way: cache busy */
	uint64_t pgrant_mapped;             /* grants kept mapped now */
	uint64_t lat_us[BLKBK_LAT_BUCKETS]; /* submit to response */
};

/* blkbk_stats_json - the stats as a jansson object (new reference). */
struct json_t;
struct json_t *blkbk_stats_json(const struct blkbk_stats *st);

/* ------------------------------------------------------------------ */
/* Devices and queues: the interface of the xenbus glue                */
/* ------------------------------------------------------------------ */

struct blkbk_dev;
struct blkbk_queue;

struct blkbk_dev_config {
	struct event_base *base;
	struct hv_gnttab *gnttab;      /* not owned */
	struct hv_evtchn *evtchn;      /* not owned */
	struct evtchn_mux *mux;        /* not owned; on evtchn */
	domid_t domid;                 /* the frontend */
	const char *name;              /* "vbd/51712", for logs */
	struct blkbk_backing *backing; /* owned by the device from now on */
	unsigned int readonly : 1;     /* mode=r */
	unsigned int persistent : 1;   /* both ends said feature-persistent */
	unsigned int no_indirect : 1;  /* do not offer BLKIF_OP_INDIRECT */
	unsigned int no_discard : 1;   /* discard-enable=0 */
	unsigned int nr_queues;        /* 1..BLKBK_MAX_QUEUES */
};

/*
 * blkbk_dev_new - a device over cfg->backing, which it owns from now on
 * (even on failure). Queues are connected one by one with
 * blkbk_queue_connect(). NULL with errno.
 */
struct blkbk_dev *blkbk_dev_new(const struct blkbk_dev_config *cfg);

/*
 * blkbk_dev_limits - what the device offers; the glue writes these as
 * feature keys (feature-flush-cache, feature-barrier, feature-discard,
 * discard-secure, feature-max-indirect-segments, sectors, sector-size,
 * info) before InitWait.
 */
void blkbk_dev_limits(const struct blkbk_dev *d, struct blkbk_limits *l);

/*
 * blkbk_queue_connect - connect queue qidx: map the 2^order ring pages
 * refs[] of the frontend (order <= BLKBK_MAX_RING_ORDER), bind its
 * event channel remote_port on the device's evtchn handle and route it
 * through the mux, and start serving. abi from the `protocol` key.
 * Returns 0 or -errno (-EINVAL bad order or index, -EBUSY connected
 * already, map or bind errors).
 */
int blkbk_queue_connect(struct blkbk_dev *d, unsigned int qidx,
			const grant_ref_t *refs, unsigned int order,
			evtchn_port_t remote_port, enum blkbk_abi abi);

/*
 * blkbk_dev_disconnect - stop reading the rings, and once every request
 * in flight has completed, unbind the ports, unmap the rings, flush the
 * persistent grants, and call done(arg) (from the event loop). Returns 0
 * when that happened already (done is not called), 1 when done() will
 * be called later.
 */
int blkbk_dev_disconnect(struct blkbk_dev *d, void (*done)(void *), void *arg);

/* blkbk_dev_free - disconnect if needed (in-flight I/O must be over) and
 * free, backing included. NULL-safe. */
void blkbk_dev_free(struct blkbk_dev *d);
/* blkbk_dev_release - as blkbk_dev_free, but the backing is handed back
 * (nothing in flight on it) for a later device: a reconnecting frontend
 * reuses the open file or NBD connection. NULL when d is NULL. */
struct blkbk_backing *blkbk_dev_release(struct blkbk_dev *d);

/* blkbk_dev_get_stats - sum over the queues. */
void blkbk_dev_get_stats(const struct blkbk_dev *d, struct blkbk_stats *st);

/* blkbk_queue_halted - 1 if queue qidx was halted (corrupt ring). */
int blkbk_queue_halted(const struct blkbk_dev *d, unsigned int qidx);

/* ------------------------------------------------------------------ */
/* params                                                              */
/* ------------------------------------------------------------------ */

enum blkbk_backing_kind {
	BLKBK_BACKING_FILE = 0, /* raw file or block device */
	BLKBK_BACKING_NBD,
};

struct blkbk_params {
	enum blkbk_backing_kind kind;
	unsigned int phy : 1;    /* "phy:" or type=phy: a block device */
	unsigned int direct : 1; /* open with O_DIRECT */
	char path[PATH_MAX];     /* FILE */
	/* NBD: TCP host/port, or a unix socket */
	char host[256];
	char port[16];
	char socket[108];
	char export_name[4096];
};

/*
 * blkbk_params_parse - the `params` key (and the optional `type` key, NULL
 * when absent), xl-style:
 *   /path, file:/path, phy:/dev/x, raw:/path, aio:/path
 *   nbd://host[:port][/export]       (port defaults to 10809; [v6] hosts)
 *   nbd+unix:///export?socket=PATH
 * Returns 0, or -EINVAL with *why set.
 */
int blkbk_params_parse(const char *params, const char *type,
		       struct blkbk_params *p, const char **why);

/* blkbk_params_desc - a short description for logs. */
void blkbk_params_desc(const struct blkbk_params *p, char *buf, size_t len);

#endif /* SPLITDRV_BLKBACK_COMMON_H */
