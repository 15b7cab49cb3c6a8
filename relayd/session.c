#include "session.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct session_table {
	struct session	**buckets;
	size_t		  nbuckets;	/* power of two */
	size_t		  count;
	unsigned char	  key[crypto_shorthash_KEYBYTES];
};

#define SESSION_MIN_BUCKETS	64

struct session_table *
session_table_new(void)
{
	struct session_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->nbuckets = SESSION_MIN_BUCKETS;
	if ((t->buckets = calloc(t->nbuckets, sizeof(*t->buckets))) == NULL) {
		free(t);
		return NULL;
	}
	crypto_shorthash_keygen(t->key);
	return t;
}

void
session_table_free(struct session_table *t)
{
	struct session	*s, *next;
	size_t		 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (s = t->buckets[i]; s != NULL; s = next) {
			next = s->next;
			free(s);
		}
	free(t->buckets);
	free(t);
}

static size_t
session_hash(const struct session_table *t, const char *id, size_t nbuckets)
{
	unsigned char	h[crypto_shorthash_BYTES];
	uint64_t	v;

	crypto_shorthash(h, (const unsigned char *)id, strlen(id), t->key);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (nbuckets - 1));
}

struct session *
session_find(struct session_table *t, const char *id)
{
	struct session *s;

	for (s = t->buckets[session_hash(t, id, t->nbuckets)]; s != NULL;
	    s = s->next)
		if (!strcmp(s->id, id))
			return s;
	return NULL;
}

/* Keep the load factor at or below 1; failure to grow is not fatal. */
static void
session_grow(struct session_table *t)
{
	struct session	**nb, *s, *next;
	size_t		  n = t->nbuckets * 2, i, h;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (s = t->buckets[i]; s != NULL; s = next) {
			next = s->next;
			h = session_hash(t, s->id, n);
			s->next = nb[h];
			nb[h] = s;
		}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

int
session_join(struct session_table *t, const char *id, struct session_member *m,
    unsigned max_members, unsigned max_sessions, double now)
{
	struct session	*s;
	size_t		 len, h;

	if ((s = session_find(t, id)) == NULL) {
		if (t->count >= max_sessions)
			return SESSION_ETOOMANY;
		if (max_members == 0)
			return SESSION_EFULL;
		len = strlen(id);
		if ((s = calloc(1, sizeof(*s) + len + 1)) == NULL)
			return SESSION_ENOMEM;
		memcpy(s->id, id, len + 1);
		TAILQ_INIT(&s->members);
		s->created = now;
		h = session_hash(t, id, t->nbuckets);
		s->next = t->buckets[h];
		t->buckets[h] = s;
		if (++t->count > t->nbuckets)
			session_grow(t);
	} else if (s->nmembers >= max_members)
		return SESSION_EFULL;
	TAILQ_INSERT_TAIL(&s->members, m, entry);
	s->nmembers++;
	m->sess = s;
	return 0;
}

unsigned
session_leave(struct session_table *t, struct session_member *m)
{
	struct session	*s = m->sess, **pp;
	unsigned	 left;

	if (s == NULL)
		return 0;
	TAILQ_REMOVE(&s->members, m, entry);
	m->sess = NULL;
	left = --s->nmembers;
	if (left > 0)
		return left;
	for (pp = &t->buckets[session_hash(t, s->id, t->nbuckets)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	t->count--;
	free(s);
	return 0;
}

size_t
session_count(const struct session_table *t)
{
	return t->count;
}

void
session_foreach(struct session_table *t, void (*fn)(struct session *, void *),
    void *arg)
{
	struct session	*s, *next;
	size_t		 i;

	for (i = 0; i < t->nbuckets; i++)
		for (s = t->buckets[i]; s != NULL; s = next) {
			next = s->next;
			fn(s, arg);
		}
}
