/*
 * Mesh interface addresses (meshaddr.h has the derivation and the clash
 * rule). Pure: no sockets, no logging, no allocation outside
 * meshaddr_table_build.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "punchd/meshaddr.h"

#define V4_SIZE		(1u << (32 - MESHADDR_V4_PLEN))
#define V4_MASK		(~(V4_SIZE - 1))

static const char v6_label[] = "atmosphere meshaddr v6";
static const char v4_label[] = "atmosphere meshaddr v4";

static void
meshaddr_hash(const char *label, const uint8_t *in, size_t len, uint8_t *out,
    size_t outlen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, outlen);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, in, len);
	crypto_generichash_final(&st, out, outlen);
}

void
meshaddr_v6_prefix(const uint8_t mesh_id[MESHADDR_MESH_ID_LEN],
    uint8_t prefix[16])
{
	uint8_t	h[16];

	meshaddr_hash(v6_label, mesh_id, MESHADDR_MESH_ID_LEN, h, sizeof(h));
	memset(prefix, 0, 16);
	prefix[0] = 0xfd;		/* fc00::/7 with L = 1 */
	memcpy(prefix + 1, h, 5);	/* 40-bit global id; subnet id 0 */
}

void
meshaddr_v6(const uint8_t mesh_id[MESHADDR_MESH_ID_LEN],
    const uint8_t node_id[MESHADDR_NODE_ID_LEN], uint8_t addr[16])
{
	meshaddr_v6_prefix(mesh_id, addr);
	memcpy(addr + 8, node_id, MESHADDR_NODE_ID_LEN);
}

static int
meshaddr_v4_usable(uint32_t v)
{
	return (v & 0xff) != 0 && (v & 0xff) != 0xff;
}

uint32_t
meshaddr_v4_next(uint32_t v)
{
	do
		v = MESHADDR_V4_NET | ((v + 1) & (V4_SIZE - 1));
	while (!meshaddr_v4_usable(v));
	return v;
}

uint32_t
meshaddr_v4_home(const uint8_t node_id[MESHADDR_NODE_ID_LEN])
{
	uint8_t		h[16];
	uint32_t	v;

	meshaddr_hash(v4_label, node_id, MESHADDR_NODE_ID_LEN, h, sizeof(h));
	v = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
	v = MESHADDR_V4_NET | (v & (V4_SIZE - 1));
	return meshaddr_v4_usable(v) ? v : meshaddr_v4_next(v);
}

static int
meshaddr_cmp_node(const void *a, const void *b)
{
	return memcmp(a, b, MESHADDR_NODE_ID_LEN);
}

static int
meshaddr_cmp_v4(const void *a, const void *b, void *arg)
{
	const struct meshaddr_member	*m = arg;
	uint32_t			 x = m[*(const uint32_t *)a].v4;
	uint32_t			 y = m[*(const uint32_t *)b].v4;

	return x < y ? -1 : x > y;
}

int
meshaddr_v4_valid(uint32_t v)
{
	return (v & V4_MASK) == MESHADDR_V4_NET && meshaddr_v4_usable(v);
}

/* v into the open-addressed set: 1 taken now, 0 someone has it */
static int
meshaddr_take(uint32_t *set, uint32_t mask, uint32_t v)
{
	uint32_t j;

	/* 0 is never an address in the /10: it marks free */
	for (j = (v * 2654435761u) & mask; set[j] != 0 && set[j] != v;
	    j = (j + 1) & mask)
		;
	if (set[j] != 0)
		return 0;
	set[j] = v;
	return 1;
}

/*
 * Claim addresses in node id order through an open-addressed set of the
 * addresses taken so far (size a power of two >= 2n, so probing ends):
 * the pins first, then everyone still without an address from its home.
 */
static int
meshaddr_claim(struct meshaddr_member *m, size_t n)
{
	uint32_t	*set, v, mask;
	size_t		 size = 1, i;

	while (size < 2 * n)
		size <<= 1;
	if ((set = calloc(size, sizeof(*set))) == NULL)
		return -1;
	mask = (uint32_t)size - 1;
	for (i = 0; i < n; i++)
		m[i].v4 = m[i].pin != 0 && meshaddr_take(set, mask,
		    m[i].pin) ? m[i].pin : 0;
	for (i = 0; i < n; i++) {
		if (m[i].v4 != 0)
			continue;
		for (v = meshaddr_v4_home(m[i].node_id);
		    !meshaddr_take(set, mask, v); v = meshaddr_v4_next(v))
			;
		m[i].v4 = v;
	}
	free(set);
	return 0;
}

int
meshaddr_table_build(struct meshaddr_table *t,
    const uint8_t mesh_id[MESHADDR_MESH_ID_LEN],
    const uint8_t (*ids)[MESHADDR_NODE_ID_LEN], size_t n)
{
	return meshaddr_table_build_pinned(t, mesh_id, ids, NULL, n);
}

int
meshaddr_table_build_pinned(struct meshaddr_table *t,
    const uint8_t mesh_id[MESHADDR_MESH_ID_LEN],
    const uint8_t (*ids)[MESHADDR_NODE_ID_LEN], const uint32_t *pins,
    size_t n)
{
	static const uint8_t	 zero[MESHADDR_NODE_ID_LEN];
	struct meshaddr_member	*m;
	uint32_t		*by_v4;
	size_t			 i;

	if (n == 0 || n > MESHADDR_MAX_MEMBERS)
		return -1;
	m = calloc(n, sizeof(*m));
	by_v4 = calloc(n, sizeof(*by_v4));
	if (m == NULL || by_v4 == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		memcpy(m[i].node_id, ids[i], MESHADDR_NODE_ID_LEN);
		m[i].pin = pins != NULL ? pins[i] : 0;
		if (m[i].pin != 0 && !meshaddr_v4_valid(m[i].pin))
			goto fail;
	}
	qsort(m, n, sizeof(*m), meshaddr_cmp_node);
	for (i = 0; i < n; i++) {
		/* id 0 means "unknown" on the wire and would be the
		 * Subnet-Router anycast address: never a member */
		if (memcmp(m[i].node_id, zero, sizeof(zero)) == 0 ||
		    (i > 0 && memcmp(m[i - 1].node_id, m[i].node_id,
		    MESHADDR_NODE_ID_LEN) == 0))
			goto fail;
		meshaddr_v6(mesh_id, m[i].node_id, m[i].v6);
		by_v4[i] = (uint32_t)i;
	}
	if (meshaddr_claim(m, n) == -1)
		goto fail;
	qsort_r(by_v4, n, sizeof(*by_v4), meshaddr_cmp_v4, m);
	meshaddr_table_free(t);
	meshaddr_v6_prefix(mesh_id, t->prefix);
	t->m = m;
	t->by_v4 = by_v4;
	t->n = n;
	return 0;
fail:
	free(m);
	free(by_v4);
	return -1;
}

void
meshaddr_table_free(struct meshaddr_table *t)
{
	free(t->m);
	free(t->by_v4);
	t->m = NULL;
	t->by_v4 = NULL;
	t->n = 0;
}

const struct meshaddr_member *
meshaddr_by_node(const struct meshaddr_table *t,
    const uint8_t node_id[MESHADDR_NODE_ID_LEN])
{
	if (t->n == 0)
		return NULL;
	return bsearch(node_id, t->m, t->n, sizeof(*t->m), meshaddr_cmp_node);
}

const struct meshaddr_member *
meshaddr_by_addr(const struct meshaddr_table *t, int family,
    const uint8_t *addr)
{
	size_t		lo = 0, hi = t->n, mid;
	uint32_t	v, x;

	if (family == 6) {
		if (memcmp(addr, t->prefix, 8) != 0)
			return NULL;
		return meshaddr_by_node(t, addr + 8);
	}
	if (family != 4)
		return NULL;
	v = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
	    (uint32_t)addr[2] << 8 | addr[3];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		x = t->m[t->by_v4[mid]].v4;
		if (x == v)
			return &t->m[t->by_v4[mid]];
		if (x < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Family and offset of the source address of an IPv4 / IPv6 header (the
 * destination follows it): 0, or MESHADDR_ERR_SHORT / _VERSION. */
static int
meshaddr_hdr(const uint8_t *pkt, size_t len, int *family, size_t *src)
{
	if (len < 1)
		return MESHADDR_ERR_SHORT;
	switch (pkt[0] >> 4) {
	case 4:
		if (len < 20 || (size_t)(pkt[0] & 0x0f) * 4 < 20 ||
		    (size_t)(pkt[0] & 0x0f) * 4 > len)
			return MESHADDR_ERR_SHORT;
		*family = 4;
		*src = 12;
		return 0;
	case 6:
		if (len < 40)
			return MESHADDR_ERR_SHORT;
		*family = 6;
		*src = 8;
		return 0;
	default:
		return MESHADDR_ERR_VERSION;
	}
}

const struct meshaddr_member *
meshaddr_route_out(const struct meshaddr_table *t, const uint8_t *pkt,
    size_t len)
{
	int	family;
	size_t	src;

	if (meshaddr_hdr(pkt, len, &family, &src) != 0)
		return NULL;
	return meshaddr_by_addr(t, family, pkt + src + (family == 4 ? 4 : 16));
}

static void
meshaddr_v4_bytes(uint32_t v, uint8_t b[4])
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

int
meshaddr_check_in(const struct meshaddr_table *t,
    const uint8_t sender[MESHADDR_NODE_ID_LEN],
    const struct meshaddr_member *self, const uint8_t *pkt, size_t len)
{
	const struct meshaddr_member	*from;
	uint8_t				 want[4];
	int				 family, r;
	size_t				 src;

	if ((r = meshaddr_hdr(pkt, len, &family, &src)) != 0)
		return r;
	if ((from = meshaddr_by_node(t, sender)) == NULL)
		return MESHADDR_ERR_SENDER;
	if (family == 6) {
		if (memcmp(pkt + src, from->v6, 16) != 0)
			return MESHADDR_ERR_SRC;
		if (memcmp(pkt + src + 16, self->v6, 16) != 0)
			return MESHADDR_ERR_DST;
		return MESHADDR_OK;
	}
	meshaddr_v4_bytes(from->v4, want);
	if (memcmp(pkt + src, want, 4) != 0)
		return MESHADDR_ERR_SRC;
	meshaddr_v4_bytes(self->v4, want);
	if (memcmp(pkt + src + 4, want, 4) != 0)
		return MESHADDR_ERR_DST;
	return MESHADDR_OK;
}

const char *
meshaddr_strerror(int err)
{
	switch (err) {
	case MESHADDR_OK:		return "ok";
	case MESHADDR_ERR_SHORT:	return "short IP header";
	case MESHADDR_ERR_VERSION:	return "not IPv4 or IPv6";
	case MESHADDR_ERR_SENDER:	return "sender is not a member";
	case MESHADDR_ERR_SRC:		return "inner source is not the sender's";
	case MESHADDR_ERR_DST:		return "inner destination is not ours";
	default:			return "unknown error";
	}
}
