/*
 * util.h - string-keyed hash table and growable byte buffer (util.c).
 */
#ifndef XENSTORED_UTIL_H
#define XENSTORED_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A link in a hash chain: of an xs_hash entry, or inside a value that an
 * xs_ihash links (below). */
struct xs_hlink {
	struct xs_hlink *next;
	uint32_t hv;
};

struct xs_hash_ent {
	struct xs_hlink link;
	const char *key; /* borrowed from the value: must outlive the entry */
	void *val;
};

struct xs_hash {
	struct xs_hlink **b;
	size_t nbuckets; /* power of two */
	size_t n;
};

/* xs_hash_init - empty table; 0 or -ENOMEM. */
int xs_hash_init(struct xs_hash *h);
/* xs_hash_free - free the table (not the values). */
void xs_hash_free(struct xs_hash *h);
/* xs_hash_get - value stored under key, NULL if none. */
void *xs_hash_get(const struct xs_hash *h, const char *key);
/* xs_hash_put - add key (must not be present); 0 or -ENOMEM. */
int xs_hash_put(struct xs_hash *h, const char *key, void *val);
/* xs_hash_del - remove key; returns its value or NULL. */
void *xs_hash_del(struct xs_hash *h, const char *key);
/* xs_hash_foreach - call fn on every value; fn may not modify h. */
void xs_hash_foreach(const struct xs_hash *h, void (*fn)(void *val, void *arg),
		     void *arg);
uint32_t xs_hash_str(const char *s);

/*
 * An intrusive string-keyed hash table (the tree's nodes by path): the
 * link lives in the value, whose key the table asks for through key(),
 * so an entry costs no allocation of its own.
 */
struct xs_ihash {
	struct xs_hlink **b;
	size_t nbuckets; /* power of two */
	size_t n;
	const char *(*key)(const struct xs_hlink *l);
};

/* xs_ihash_init - empty table; 0 or -ENOMEM. */
int xs_ihash_init(struct xs_ihash *h,
		  const char *(*key)(const struct xs_hlink *l));
/* xs_ihash_free - free the table (the values keep their links). */
void xs_ihash_free(struct xs_ihash *h);
/* xs_ihash_get - the link whose key is key, NULL if none. */
struct xs_hlink *xs_ihash_get(const struct xs_ihash *h, const char *key);
/* xs_ihash_put - add l (its key must not be present). */
void xs_ihash_put(struct xs_ihash *h, struct xs_hlink *l);
/* xs_ihash_del - unlink the link whose key is key; it, or NULL. */
struct xs_hlink *xs_ihash_del(struct xs_ihash *h, const char *key);

/*
 * An integer-keyed map (domain ids): open addressing, linear probing,
 * deletion by backward shift, so a lookup is O(1) with no tombstones.
 * Keys are any uint32_t; values non-NULL.
 */
struct xs_imap_ent {
	uint32_t key;
	void *val; /* NULL: an empty slot */
};

struct xs_imap {
	struct xs_imap_ent *e;
	size_t cap; /* power of two, or 0 before the first put */
	size_t n;
};

/* xs_imap_get - value under key, NULL if none. */
void *xs_imap_get(const struct xs_imap *m, uint32_t key);
/* xs_imap_put - set key to val (non-NULL), replacing; 0 or -ENOMEM. */
int xs_imap_put(struct xs_imap *m, uint32_t key, void *val);
/* xs_imap_del - remove key; returns its value or NULL. */
void *xs_imap_del(struct xs_imap *m, uint32_t key);
/* xs_imap_foreach - call fn on every value; fn may not modify m. */
void xs_imap_foreach(const struct xs_imap *m, void (*fn)(void *val, void *arg),
		     void *arg);
/* xs_imap_free - free the table (not the values); reusable after. */
void xs_imap_free(struct xs_imap *m);

/*
 * A set of names in insertion order (a node's children inside a
 * transaction): the names are packed "a\0b\0" in one buffer, a removed one
 * blanked to NULs (compacted when half the buffer is holes), and an open
 * addressing index of offsets makes find, add and del O(1) (expected).
 */
struct xs_names {
	char *buf;
	uint32_t len, cap; /* bytes used (holes included), allocated */
	uint32_t *idx;     /* offset + 1 of a name; 0 empty, UINT32_MAX gone */
	uint32_t icap;     /* power of two, or 0 */
	uint32_t n;        /* names */
	uint32_t used;     /* idx slots not empty (names + tombstones) */
	uint32_t childlen; /* sum of strlen(name) + 1 over the names */
};

/* xs_names_find - is the name of len bytes (no NUL needed) present? */
bool xs_names_find(const struct xs_names *s, const char *name, size_t len);
/* xs_names_add - append name (must not be present); 0 or -ENOMEM. */
int xs_names_add(struct xs_names *s, const char *name, size_t len);
/* xs_names_del - remove name; true if it was present. */
bool xs_names_del(struct xs_names *s, const char *name, size_t len);
/* xs_names_clear - no names (keeps nothing allocated). */
void xs_names_clear(struct xs_names *s);
/* xs_names_next - iterate: *off starts at 0; the next name or NULL. */
const char *xs_names_next(const struct xs_names *s, uint32_t *off);

/* growable byte buffer */

struct xs_buf {
	char *p;
	size_t len, cap;
};
int xs_buf_add(struct xs_buf *b, const void *data, size_t len);
int xs_buf_addstr(struct xs_buf *b, const char *s); /* with its NUL */
int xs_buf_printf(struct xs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))); /* without NUL */
void xs_buf_free(struct xs_buf *b);

#endif /* XENSTORED_UTIL_H */
