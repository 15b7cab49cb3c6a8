/*
 * Clients per source address: a small chained hash of in6_addr -> count
 * (IPv4 as v4-mapped), entries freed when their count drops to zero. Keyed
 * hashing so nobody can aim at one chain.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "relayd/relayd.h"

struct ip_entry {
	struct ip_entry	*next;
	struct in6_addr	 addr;
	unsigned	 count;
};

struct iplimit {
	struct ip_entry	**buckets;
	size_t		  nbuckets;
	size_t		  count;
	unsigned char	  key[crypto_shorthash_KEYBYTES];
};

#define IPLIMIT_BUCKETS	1024

struct iplimit *
iplimit_new(void)
{
	struct iplimit *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->nbuckets = IPLIMIT_BUCKETS;
	if ((l->buckets = calloc(l->nbuckets, sizeof(*l->buckets))) == NULL) {
		free(l);
		return NULL;
	}
	crypto_shorthash_keygen(l->key);
	return l;
}

void
iplimit_free(struct iplimit *l)
{
	struct ip_entry	*e, *next;
	size_t		 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nbuckets; i++)
		for (e = l->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(l->buckets);
	free(l);
}

static struct ip_entry **
iplimit_slot(struct iplimit *l, const struct in6_addr *addr)
{
	unsigned char	  h[crypto_shorthash_BYTES];
	uint64_t	  v;
	struct ip_entry	**pp;

	crypto_shorthash(h, (const unsigned char *)addr, sizeof(*addr), l->key);
	memcpy(&v, h, sizeof(v));
	for (pp = &l->buckets[v % l->nbuckets]; *pp != NULL; pp = &(*pp)->next)
		if (!memcmp(&(*pp)->addr, addr, sizeof(*addr)))
			break;
	return pp;
}

int
iplimit_add(struct iplimit *l, const struct in6_addr *addr, unsigned max)
{
	struct ip_entry **pp = iplimit_slot(l, addr), *e = *pp;

	if (e == NULL) {
		if (max == 0 || (e = calloc(1, sizeof(*e))) == NULL)
			return -1;
		e->addr = *addr;
		*pp = e;
		l->count++;
	} else if (e->count >= max)
		return -1;
	e->count++;
	return 0;
}

void
iplimit_del(struct iplimit *l, const struct in6_addr *addr)
{
	struct ip_entry **pp = iplimit_slot(l, addr), *e = *pp;

	if (e == NULL)
		return;
	if (--e->count == 0) {
		*pp = e->next;
		free(e);
		l->count--;
	}
}

unsigned
iplimit_count(struct iplimit *l, const struct in6_addr *addr)
{
	struct ip_entry *e = *iplimit_slot(l, addr);

	return e != NULL ? e->count : 0;
}
