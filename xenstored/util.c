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

#define ENT(l) ((struct xs_hash_ent *)(l)) /* link is its first member */

/* xs_hash_free - free the table and its entries, not the values. */
void xs_hash_free(struct xs_hash *h)
{
	size_t i;
	struct xs_hlink *l, *next;

	if (!h->b)
		return;
	for (i = 0; i < h->nbuckets; i++)
		for (l = h->b[i]; l; l = next) {
			next = l->next;
			free(ENT(l));
		}
	free(h->b);
	h->b = NULL;
	h->n = h->nbuckets = 0;
}

static const char *ent_key(const struct xs_hlink *l)
{
	return ((const struct xs_hash_ent *)l)->key;
}

/* The link to key's entry in buckets b (or to the NULL ending its chain);
 * key_of names a link's key. Both tables look up through here. */
static struct xs_hlink **
links_slot(struct xs_hlink **b, size_t nb,
	   const char *(*key_of)(const struct xs_hlink *), const char *key,
	   uint32_t hv)
{
	struct xs_hlink **pl = &b[hv & (nb - 1)];

	for (; *pl; pl = &(*pl)->next)
		if ((*pl)->hv == hv && strcmp(key_of(*pl), key) == 0)
			break;
	return pl;
}

static struct xs_hlink **hash_slot(const struct xs_hash *h, const char *key,
				   uint32_t hv)
{
	return links_slot(h->b, h->nbuckets, ent_key, key, hv);
}

/* xs_hash_get - value stored under key, NULL if none. */
void *xs_hash_get(const struct xs_hash *h, const char *key)
{
	struct xs_hlink *l = *hash_slot(h, key, xs_hash_str(key));

	return l ? ENT(l)->val : NULL;
}

/*
 * links_add - chain l (its hv set) into the buckets *pb of *pnb, first
 * doubling them when n links are there already (a failed doubling keeps
 * the longer chains: still correct). Both tables grow through here.
 */
static void links_add(struct xs_hlink ***pb, size_t *pnb, size_t n,
		      struct xs_hlink *l)
{
	size_t nb = *pnb * 2, i;
	struct xs_hlink **b, *e, *next;

	if (n >= *pnb && (b = calloc(nb, sizeof(*b)))) {
		for (i = 0; i < *pnb; i++)
			for (e = (*pb)[i]; e; e = next) {
				next = e->next;
				e->next = b[e->hv & (nb - 1)];
				b[e->hv & (nb - 1)] = e;
			}
		free(*pb);
		*pb = b;
		*pnb = nb;
	}
	l->next = (*pb)[l->hv & (*pnb - 1)];
	(*pb)[l->hv & (*pnb - 1)] = l;
}

/* xs_hash_put - add key (must not be present); 0 or -ENOMEM. */
int xs_hash_put(struct xs_hash *h, const char *key, void *val)
{
	struct xs_hash_ent *e = malloc(sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->link.hv = xs_hash_str(key);
	e->key = key;
	e->val = val;
	links_add(&h->b, &h->nbuckets, h->n, &e->link);
	h->n++;
	return 0;
}

/* xs_hash_del - remove key; returns its value or NULL. */
void *xs_hash_del(struct xs_hash *h, const char *key)
{
	struct xs_hlink **pl = hash_slot(h, key, xs_hash_str(key));
	struct xs_hlink *l = *pl;
	void *val;

	if (!l)
		return NULL;
	*pl = l->next;
	val = ENT(l)->val;
	free(ENT(l));
	h->n--;
	return val;
}

/* xs_hash_foreach - call fn on every value; fn may not modify h. */
void xs_hash_foreach(const struct xs_hash *h, void (*fn)(void *val, void *arg),
		     void *arg)
{
	size_t i;
	struct xs_hlink *l;

	for (i = 0; i < h->nbuckets; i++)
		for (l = h->b[i]; l; l = l->next)
			fn(ENT(l)->val, arg);
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

/* ---- the intrusive hash table ----------------------------------------- */

/* xs_ihash_init - empty table; 0 or -ENOMEM. */
int xs_ihash_init(struct xs_ihash *h,
		  const char *(*key)(const struct xs_hlink *l))
{
	h->b = calloc(HASH_MIN_BUCKETS, sizeof(*h->b));
	if (!h->b)
		return -ENOMEM;
	h->nbuckets = HASH_MIN_BUCKETS;
	h->n = 0;
	h->key = key;
	return 0;
}

/* xs_ihash_free - free the table (the values keep their links). */
void xs_ihash_free(struct xs_ihash *h)
{
	free(h->b);
	h->b = NULL;
	h->n = h->nbuckets = 0;
}

static struct xs_hlink **ihash_slot(const struct xs_ihash *h, const char *key,
				    uint32_t hv)
{
	return links_slot(h->b, h->nbuckets, h->key, key, hv);
}

/* xs_ihash_get - the link whose key is key, NULL if none. */
struct xs_hlink *xs_ihash_get(const struct xs_ihash *h, const char *key)
{
	return *ihash_slot(h, key, xs_hash_str(key));
}

/* xs_ihash_put - add l (its key must not be present). */
void xs_ihash_put(struct xs_ihash *h, struct xs_hlink *l)
{
	l->hv = xs_hash_str(h->key(l));
	links_add(&h->b, &h->nbuckets, h->n, l);
	h->n++;
}

/* xs_ihash_del - unlink the link whose key is key; it, or NULL. */
struct xs_hlink *xs_ihash_del(struct xs_ihash *h, const char *key)
{
	struct xs_hlink **pl = ihash_slot(h, key, xs_hash_str(key));
	struct xs_hlink *l = *pl;

	if (l) {
		*pl = l->next;
		h->n--;
	}
	return l;
}

/* ---- the integer-keyed map ------------------------------------------ */

#define IMAP_MIN_CAP 16

static size_t imap_home(const struct xs_imap *m, uint32_t key)
{
	uint32_t h = key * 0x9e3779b1u;

	return (h ^ (h >> 16)) & (m->cap - 1);
}

static size_t imap_slot(const struct xs_imap *m, uint32_t key)
{
	size_t i = imap_home(m, key);

	while (m->e[i].val && m->e[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* xs_imap_get - value under key, NULL if none. */
void *xs_imap_get(const struct xs_imap *m, uint32_t key)
{
	return m->cap ? m->e[imap_slot(m, key)].val : NULL;
}

static int imap_grow(struct xs_imap *m)
{
	struct xs_imap old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : IMAP_MIN_CAP;
	m->e = calloc(m->cap, sizeof(*m->e));
	if (!m->e) {
		*m = old;
		return -ENOMEM;
	}
	for (i = 0; i < old.cap; i++)
		if (old.e[i].val)
			m->e[imap_slot(m, old.e[i].key)] = old.e[i];
	free(old.e);
	return 0;
}

/* xs_imap_put - set key to val (non-NULL), replacing; 0 or -ENOMEM. */
int xs_imap_put(struct xs_imap *m, uint32_t key, void *val)
{
	size_t i;

	/* load at most one half: short probe sequences */
	if ((m->n + 1) * 2 > m->cap && imap_grow(m))
		return -ENOMEM;
	i = imap_slot(m, key);
	if (!m->e[i].val)
		m->n++;
	m->e[i].key = key;
	m->e[i].val = val;
	return 0;
}

/*
 * xs_imap_del - remove key; returns its value or NULL. Backward shift:
 * each entry after the hole that may move into it (its home is not in
 * the cyclic span (hole, entry]) does, until an empty slot, so lookups
 * never meet a gap before their key.
 */
void *xs_imap_del(struct xs_imap *m, uint32_t key)
{
	size_t mask = m->cap - 1, i, j, k;
	void *val;

	if (!m->cap)
		return NULL;
	i = imap_slot(m, key);
	val = m->e[i].val;
	if (!val)
		return NULL;
	for (j = i;;) {
		j = (j + 1) & mask;
		if (!m->e[j].val)
			break;
		k = imap_home(m, m->e[j].key);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue; /* at or past its home: stays */
		m->e[i] = m->e[j];
		i = j;
	}
	m->e[i].val = NULL;
	m->n--;
	return val;
}

/* xs_imap_foreach - call fn on every value; fn may not modify m. */
void xs_imap_foreach(const struct xs_imap *m, void (*fn)(void *val, void *arg),
		     void *arg)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->e[i].val)
			fn(m->e[i].val, arg);
}

/* xs_imap_free - free the table (not the values); reusable after. */
void xs_imap_free(struct xs_imap *m)
{
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}

/* ---- the set of names ------------------------------------------------ */

#define NAMES_GONE UINT32_MAX

static uint32_t names_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--) {
		h ^= (unsigned char)*p++;
		h *= 16777619u;
	}
	return h;
}

/* The index slot holding name, or UINT32_MAX. */
static uint32_t names_slot(const struct xs_names *s, const char *name,
			   size_t len)
{
	uint32_t mask = s->icap - 1, i;

	if (!s->icap)
		return UINT32_MAX;
	for (i = names_hash(name, len) & mask; s->idx[i]; i = (i + 1) & mask) {
		const char *q;

		if (s->idx[i] == NAMES_GONE)
			continue;
		q = s->buf + s->idx[i] - 1;
		if (strncmp(q, name, len) == 0 && q[len] == '\0')
			return i;
	}
	return UINT32_MAX;
}

/* Put offset off (of a name not present) into the index. */
static void names_index(struct xs_names *s, uint32_t off)
{
	const char *p = s->buf + off;
	uint32_t mask = s->icap - 1, i;

	for (i = names_hash(p, strlen(p)) & mask;
	     s->idx[i] && s->idx[i] != NAMES_GONE; i = (i + 1) & mask)
		;
	if (!s->idx[i])
		s->used++;
	s->idx[i] = off + 1;
}

/* Pack the names (dropping holes) and index them in icap slots. */
static int names_rebuild(struct xs_names *s, uint32_t icap)
{
	uint32_t *idx = calloc(icap, sizeof(*idx));
	uint32_t off = 0, to = 0;
	const char *p;

	if (!idx)
		return -ENOMEM;
	free(s->idx);
	s->idx = idx;
	s->icap = icap;
	s->used = 0;
	while ((p = xs_names_next(s, &off))) {
		size_t l = strlen(p) + 1;

		memmove(s->buf + to, p, l);
		names_index(s, to);
		to += (uint32_t)l;
	}
	s->len = to;
	return 0;
}

/* xs_names_find - is the name of len bytes present? */
bool xs_names_find(const struct xs_names *s, const char *name, size_t len)
{
	return names_slot(s, name, len) != UINT32_MAX;
}

/* xs_names_add - append name (must not be present); 0 or -ENOMEM. */
int xs_names_add(struct xs_names *s, const char *name, size_t len)
{
	if (s->len + len + 1 > s->cap) {
		uint32_t cap = s->cap ? s->cap : 64;
		char *b;

		while (cap < s->len + len + 1)
			cap *= 2;
		b = realloc(s->buf, cap);
		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
	/* at most a quarter full with tombstones, else rebuild bigger */
	if ((s->used + 1) * 4 > s->icap) {
		uint32_t icap = 16;

		while (icap < (s->n + 1) * 4)
			icap *= 2;
		if (names_rebuild(s, icap))
			return -ENOMEM;
	}
	memcpy(s->buf + s->len, name, len);
	s->buf[s->len + len] = '\0';
	names_index(s, s->len);
	s->len += (uint32_t)len + 1;
	s->n++;
	s->childlen += (uint32_t)len + 1;
	return 0;
}

/* xs_names_del - remove name; true if it was present. */
bool xs_names_del(struct xs_names *s, const char *name, size_t len)
{
	uint32_t i = names_slot(s, name, len);

	if (i == UINT32_MAX)
		return false;
	memset(s->buf + s->idx[i] - 1, 0, len);
	s->idx[i] = NAMES_GONE;
	s->n--;
	s->childlen -= (uint32_t)len + 1;
	/* more holes than names: pack (a failed rebuild keeps the holes) */
	if (s->len > 256 && s->len - s->childlen > s->childlen)
		(void)names_rebuild(s, s->icap);
	return true;
}

/* xs_names_clear - no names (keeps nothing allocated). */
void xs_names_clear(struct xs_names *s)
{
	free(s->buf);
	free(s->idx);
	memset(s, 0, sizeof(*s));
}

/* xs_names_next - iterate: *off starts at 0; the next name or NULL. */
const char *xs_names_next(const struct xs_names *s, uint32_t *off)
{
	const char *p;

	while (*off < s->len && s->buf[*off] == '\0')
		(*off)++;
	if (*off >= s->len)
		return NULL;
	p = s->buf + *off;
	*off += (uint32_t)strlen(p) + 1;
	return p;
}
