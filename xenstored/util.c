/*
 * util.c - the string-keyed hash table and the growable buffer used by
 * every module of the store.
 *
 * The hash table chains entries in power-of-two buckets and doubles when
 * the load passes 1. Keys are borrowed: the value owns its key string
 * (a node's path, a watch list's path), so an entry costs one small
 * allocation.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored/util.h"

#define HASH_MIN_BUCKETS 16

/* xs_hash_str - FNV-1a of a NUL-terminated string. */
uint32_t xs_hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/* xs_hash_init - empty table; 0 or -ENOMEM. */
int xs_hash_init(struct xs_hash *h)
{
	h->b = calloc(HASH_MIN_BUCKETS, sizeof(*h->b));
	if (!h->b)
		return -ENOMEM;
	h->nbuckets = HASH_MIN_BUCKETS;
	h->n = 0;
	return 0;
}

/* xs_hash_free - free the table and its entries, not the values. */
void xs_hash_free(struct xs_hash *h)
{
	size_t i;
	struct xs_hash_ent *e, *next;

	if (!h->b)
		return;
	for (i = 0; i < h->nbuckets; i++)
		for (e = h->b[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	free(h->b);
	h->b = NULL;
	h->n = h->nbuckets = 0;
}

static struct xs_hash_ent **hash_slot(const struct xs_hash *h, const char *key,
				      uint32_t hv)
{
	struct xs_hash_ent **pe = &h->b[hv & (h->nbuckets - 1)];

	for (; *pe; pe = &(*pe)->next)
		if ((*pe)->hv == hv && strcmp((*pe)->key, key) == 0)
			break;
	return pe;
}

/* xs_hash_get - value stored under key, NULL if none. */
void *xs_hash_get(const struct xs_hash *h, const char *key)
{
	struct xs_hash_ent **pe = hash_slot(h, key, xs_hash_str(key));

	return *pe ? (*pe)->val : NULL;
}

static void hash_grow(struct xs_hash *h)
{
	size_t nb = h->nbuckets * 2, i;
	struct xs_hash_ent **b = calloc(nb, sizeof(*b));
	struct xs_hash_ent *e, *next;

	if (!b)
		return; /* keep the longer chains; still correct */
	for (i = 0; i < h->nbuckets; i++)
		for (e = h->b[i]; e; e = next) {
			next = e->next;
			e->next = b[e->hv & (nb - 1)];
			b[e->hv & (nb - 1)] = e;
		}
	free(h->b);
	h->b = b;
	h->nbuckets = nb;
}

/* xs_hash_put - add key (must not be present); 0 or -ENOMEM. */
int xs_hash_put(struct xs_hash *h, const char *key, void *val)
{
	struct xs_hash_ent *e = malloc(sizeof(*e));
	uint32_t hv = xs_hash_str(key);

	if (!e)
		return -ENOMEM;
	if (h->n >= h->nbuckets)
		hash_grow(h);
	e->hv = hv;
	e->key = key;
	e->val = val;
	e->next = h->b[hv & (h->nbuckets - 1)];
	h->b[hv & (h->nbuckets - 1)] = e;
	h->n++;
	return 0;
}

/* xs_hash_del - remove key; returns its value or NULL. */
void *xs_hash_del(struct xs_hash *h, const char *key)
{
	struct xs_hash_ent **pe = hash_slot(h, key, xs_hash_str(key));
	struct xs_hash_ent *e = *pe;
	void *val;

	if (!e)
		return NULL;
	*pe = e->next;
	val = e->val;
	free(e);
	h->n--;
	return val;
}

/* xs_hash_foreach - call fn on every value; fn may not modify h. */
void xs_hash_foreach(const struct xs_hash *h, void (*fn)(void *val, void *arg),
		     void *arg)
{
	size_t i;
	struct xs_hash_ent *e;

	for (i = 0; i < h->nbuckets; i++)
		for (e = h->b[i]; e; e = e->next)
			fn(e->val, arg);
}

static int buf_reserve(struct xs_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* xs_buf_add - append len bytes; 0 or -ENOMEM. */
int xs_buf_add(struct xs_buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len + 1))
		return -ENOMEM;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0'; /* always terminated, not counted */
	return 0;
}

/* xs_buf_addstr - append s and its NUL; 0 or -ENOMEM. */
int xs_buf_addstr(struct xs_buf *b, const char *s)
{
	return xs_buf_add(b, s, strlen(s) + 1);
}

/* xs_buf_printf - append formatted text without its NUL; 0 or -ENOMEM. */
int xs_buf_printf(struct xs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n + 1))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* xs_buf_free - release the buffer; it may be reused after. */
void xs_buf_free(struct xs_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
