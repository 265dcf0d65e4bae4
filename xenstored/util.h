/*
 * util.h - string-keyed hash table and growable byte buffer (util.c).
 */
#ifndef XENSTORED_UTIL_H
#define XENSTORED_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct xs_hash_ent {
	struct xs_hash_ent *next;
	uint32_t hv;
	const char *key; /* borrowed from the value: must outlive the entry */
	void *val;
};

struct xs_hash {
	struct xs_hash_ent **b;
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
