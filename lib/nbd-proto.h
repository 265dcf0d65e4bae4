/*
 * nbd-proto.h - the NBD wire format (NetworkBlockDevice's doc/proto.md):
 * the fixed-newstyle handshake, options, transmission flags, commands and
 * the simple reply, as far as splitdrv speaks it. Used by blkback's NBD
 * backing (the client, blkback/backing-nbd.c) and by loopguest's NBD
 * server (tools/nbd-server.c). Every field on the wire is big-endian.
 */
#ifndef SPLITDRV_NBD_PROTO_H
#define SPLITDRV_NBD_PROTO_H

#include <stdint.h>

/* Magics */
#define NBD_MAGIC              0x4e42444d41474943ULL /* "NBDMAGIC" */
#define NBD_OPTS_MAGIC         0x49484156454f5054ULL /* "IHAVEOPT" */
#define NBD_REP_MAGIC          0x0003e889045565a9ULL /* option replies */
#define NBD_REQUEST_MAGIC      0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u

/* Handshake flags (server) and client flags */
#define NBD_FLAG_FIXED_NEWSTYLE   (1u << 0)
#define NBD_FLAG_NO_ZEROES        (1u << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_C_NO_ZEROES      (1u << 1)

/* Options */
#define NBD_OPT_EXPORT_NAME 1
#define NBD_OPT_ABORT       2
#define NBD_OPT_LIST        3
#define NBD_OPT_INFO        6
#define NBD_OPT_GO          7

/* Option reply types */
#define NBD_REP_ACK         1u
#define NBD_REP_SERVER      2u
#define NBD_REP_INFO        3u
#define NBD_REP_FLAG_ERROR  (1u << 31)
#define NBD_REP_ERR_UNSUP   (NBD_REP_FLAG_ERROR | 1u)
#define NBD_REP_ERR_INVALID (NBD_REP_FLAG_ERROR | 3u)
#define NBD_REP_ERR_UNKNOWN (NBD_REP_FLAG_ERROR | 6u)

/* NBD_OPT_INFO / NBD_OPT_GO information types */
#define NBD_INFO_EXPORT      0
#define NBD_INFO_NAME        1
#define NBD_INFO_DESCRIPTION 2
#define NBD_INFO_BLOCK_SIZE  3

/* Transmission flags */
#define NBD_FLAG_HAS_FLAGS         (1u << 0)
#define NBD_FLAG_READ_ONLY         (1u << 1)
#define NBD_FLAG_SEND_FLUSH        (1u << 2)
#define NBD_FLAG_SEND_FUA          (1u << 3)
#define NBD_FLAG_SEND_TRIM         (1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)

/* Commands and their flags */
#define NBD_CMD_READ         0
#define NBD_CMD_WRITE        1
#define NBD_CMD_DISC         2
#define NBD_CMD_FLUSH        3
#define NBD_CMD_TRIM         4
#define NBD_CMD_WRITE_ZEROES 6
#define NBD_CMD_FLAG_FUA     (1u << 0)
#define NBD_CMD_FLAG_NO_HOLE (1u << 1)

/* Errors in replies (errno values as the protocol fixes them) */
#define NBD_EPERM     1
#define NBD_EIO       5
#define NBD_ENOMEM    12
#define NBD_EINVAL    22
#define NBD_ENOSPC    28
#define NBD_EOVERFLOW 75
#define NBD_ENOTSUP   95

/* The server's greeting: NBD_MAGIC, NBD_OPTS_MAGIC, handshake flags. */
struct nbd_greeting {
	uint64_t magic, opts_magic;
	uint16_t flags;
} __attribute__((packed));

/* A client's option: NBD_OPTS_MAGIC, option, length of the data after. */
struct nbd_opt_hdr {
	uint64_t magic;
	uint32_t opt, len;
} __attribute__((packed));

/* An option reply: NBD_REP_MAGIC, option, type, length of the data. */
struct nbd_opt_reply_hdr {
	uint64_t magic;
	uint32_t opt, type, len;
} __attribute__((packed));

/* A request (NBD_REQUEST_MAGIC); a write's payload follows. */
struct nbd_request_hdr {
	uint32_t magic;
	uint16_t flags, type;
	uint64_t handle, offset;
	uint32_t len;
} __attribute__((packed));

/* A simple reply (NBD_SIMPLE_REPLY_MAGIC); a read's payload follows. */
struct nbd_simple_reply_hdr {
	uint32_t magic, error;
	uint64_t handle;
} __attribute__((packed));

_Static_assert(sizeof(struct nbd_greeting) == 18, "NBD greeting");
_Static_assert(sizeof(struct nbd_opt_hdr) == 16, "NBD option header");
_Static_assert(sizeof(struct nbd_opt_reply_hdr) == 20, "NBD option reply");
_Static_assert(sizeof(struct nbd_request_hdr) == 28, "NBD request header");
_Static_assert(sizeof(struct nbd_simple_reply_hdr) == 16, "NBD simple reply");

#endif /* SPLITDRV_NBD_PROTO_H */
