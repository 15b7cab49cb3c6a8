/*
 * status.get -> Prometheus text exposition format. See promtext.h for the
 * naming and typing rules.
 */
#include "promtext.h"

#include <stdio.h>
#include <string.h>

#include "mpack.h"

/* Longest metric name: paths in status.get are two or three keys deep. */
#define PT_NAME		128
/* Distinct numeric keys of a peer in peer.list (15 today). */
#define PT_MAXKEYS	64
/* Daemon names: "stund", "punchd", "relayd". */
#define PT_PREFIX	32
/* Labels of one _info sample. */
#define PT_MAXLABELS	32
/* Maps within maps followed (status.get has two levels; a reply is not
 * trusted to be shallow). */
#define PT_MAXDEPTH	8

/* Leaves of a "counters" map that are levels, not counts. */
static const char *const promtext_gauge_keys[] = {
	"ipc_clients",		/* stund: connected IPC clients */
};
/* Leaves that count up wherever they are (peer maps have no "counters"). */
static const char *const promtext_counter_keys[] = {
	"rx_packets", "tx_packets", "rx_data", "tx_data", "rx_bytes",
	"tx_bytes", "keepalives_sent", "keepalives_acked", "attempts",
};
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Numbers and bools; *exact the integer text when it is one (doubles
 * lose precision past 2^53, and counters are uint64). -1: not numeric. */
static int
pt_number(const msgpack_object *o, double scale, double *d, char *exact,
    size_t len)
{
	exact[0] = '\0';
	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN:
		*d = o->via.boolean ? 1 : 0;
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*d = (double)o->via.u64 * scale;
		if (scale == 1)
			snprintf(exact, len, "%llu",
			    (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*d = (double)o->via.i64 * scale;
		if (scale == 1)
			snprintf(exact, len, "%lld", (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*d = o->via.f64 * scale;
		break;
	default:
		return -1;
	}
	return 0;
}

static int
pt_numeric(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_BOOLEAN ||
	    o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
	    o->type == MSGPACK_OBJECT_FLOAT32 ||
	    o->type == MSGPACK_OBJECT_FLOAT64;
}

static void
pt_sample_value(struct promtext *pt, const msgpack_object *o, double scale)
{
	char	exact[32];
	double	d;

	if (pt_number(o, scale, &d, exact, sizeof(exact)) == -1)
		return;
	if (exact[0] != '\0')
		promtext_printf(pt, " %s\n", exact);
	else
		promtext_value(pt, d);
}

static int
pt_in(const char *const *tab, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(tab[i]) == len && !memcmp(tab[i], s, len))
			return 1;
	return 0;
}

static int
pt_ends(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && !memcmp(s + len - n, suffix, n);
}

/*
 * The family name of leaf `key` under `path` ("" at the root), its type
 * and the factor its value is multiplied by.
 */
static void
pt_leaf_name(char *name, size_t len, const char *prefix, const char *path,
    const char *key, size_t klen, int in_counters, const char **type,
    double *scale)
{
	size_t	base = klen;
	int	counter;

	*scale = 1;
	if (pt_ends(key, klen, "_ms")) {
		base = klen - 3;
		*scale = 0.001;
	} else if (pt_ends(key, klen, "_s"))
		base = klen - 2;
	counter = pt_in(promtext_counter_keys, NELEM(promtext_counter_keys),
	    key, klen) || (in_counters && !pt_in(promtext_gauge_keys,
	    NELEM(promtext_gauge_keys), key, klen));
	snprintf(name, len, "%s_", prefix);
	if (path[0] != '\0') {
		promtext_sanitize(name, len, path, strlen(path), 0);
		strlcat(name, "_", len);
	}
	promtext_sanitize(name, len, key, base, 0);
	if (base != klen)
		strlcat(name, "_seconds", len);
	if (counter && !pt_ends(name, strlen(name), "_total"))
		strlcat(name, "_total", len);
	*type = counter ? "counter" : "gauge";
}

/* The string leaves of map o as the labels of one sample ({...} included). */
static void
pt_labels(struct promtext *pt, const msgpack_object *o, const char *first,
    const char *fv, size_t fvlen, const char *skip)
{
	char		 seen[PT_MAXLABELS][PT_NAME];
	const char	*sep = "";
	uint32_t	 i;
	size_t		 n = 0, j;

	promtext_printf(pt, "{");
	if (first != NULL) {
		promtext_label(pt, first, fv, fvlen);
		strlcpy(seen[n++], first, sizeof(seen[0]));
		sep = ",";
	}
	for (i = 0; i < o->via.map.size && n < PT_MAXLABELS; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];

		if (kv->key.type != MSGPACK_OBJECT_STR ||
		    kv->val.type != MSGPACK_OBJECT_STR)
			continue;
		if (skip != NULL && strlen(skip) == kv->key.via.str.size &&
		    !memcmp(skip, kv->key.via.str.ptr, kv->key.via.str.size))
			continue;
		seen[n][0] = '\0';
		if (kv->key.via.str.size == 0 ||
		    (kv->key.via.str.ptr[0] >= '0' &&
		    kv->key.via.str.ptr[0] <= '9'))
			strlcpy(seen[n], "_", sizeof(seen[0]));
		promtext_sanitize(seen[n], sizeof(seen[0]), kv->key.via.str.ptr,
		    kv->key.via.str.size, 0);
		/* "__" names are Prometheus's own; a repeat is invalid */
		if (!strncmp(seen[n], "__", 2))
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(seen[j], seen[n]))
				break;
		if (j < n)
			continue;
		promtext_printf(pt, "%s", sep);
		promtext_label(pt, seen[n], kv->val.via.str.ptr,
		    kv->val.via.str.size);
		sep = ",";
		n++;
	}
	promtext_printf(pt, "}");
}

static int
pt_has_strings(const msgpack_object *o)
{
	uint32_t i;

	for (i = 0; i < o->via.map.size; i++)
		if (o->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
		    o->via.map.ptr[i].val.type == MSGPACK_OBJECT_STR)
			return 1;
	return 0;
}

/* The table's help for a leaf, or NULL. */
static const char *
pt_help(const struct promtext *pt, const char *dotted)
{
	size_t i;

	for (i = 0; i < pt->nhelp; i++)
		if (strcmp(pt->help[i].key, dotted) == 0)
			return pt->help[i].help;
	return NULL;
}

static void
pt_walk(struct promtext *pt, const char *daemon, const char *prefix,
    const char *path, const char *dotted, const msgpack_object *o,
    int in_counters, int depth)
{
	char		 name[PT_NAME], sub[PT_NAME], subdot[PT_NAME];
	char		 help[2 * PT_NAME];
	const char	*type;
	double		 scale;
	uint32_t	 i;

	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv	*kv = &o->via.map.ptr[i];
		const char		*k = kv->key.via.str.ptr;
		size_t			 kl = kv->key.via.str.size;

		if (kv->key.type != MSGPACK_OBJECT_STR || kl == 0)
			continue;
		snprintf(subdot, sizeof(subdot), "%s%s%.*s", dotted,
		    dotted[0] ? "." : "", (int)kl, k);
		if (kv->val.type == MSGPACK_OBJECT_MAP) {
			if (depth >= PT_MAXDEPTH)
				continue;
			if (kl == 8 && !memcmp(k, "counters", 8)) {
				pt_walk(pt, daemon, prefix, path, subdot,
				    &kv->val, 1, depth + 1);
				continue;
			}
			snprintf(sub, sizeof(sub), "%s%s", path,
			    path[0] ? "_" : "");
			promtext_sanitize(sub, sizeof(sub), k, kl, 0);
			pt_walk(pt, daemon, prefix, sub, subdot, &kv->val,
			    in_counters, depth + 1);
			continue;
		}
		if (kv->val.type == MSGPACK_OBJECT_ARRAY) {
			pt_leaf_name(name, sizeof(name), prefix, path, k, kl,
			    0, &type, &scale);
			if (scale != 1 || promtext_claim(pt, name) == -1)
				continue;
			snprintf(help, sizeof(help), "%s status.get %s: "
			    "number of entries", daemon, subdot);
			promtext_header(pt, name, "gauge", help);
			promtext_printf(pt, "%s %u\n", name,
			    kv->val.via.array.size);
			continue;
		}
		if (!pt_numeric(&kv->val))
			continue;	/* strings: _info below; nil */
		pt_leaf_name(name, sizeof(name), prefix, path, k, kl,
		    in_counters, &type, &scale);
		if (promtext_claim(pt, name) == -1)
			continue;
		if (pt_help(pt, subdot) != NULL)
			strlcpy(help, pt_help(pt, subdot), sizeof(help));
		else
			snprintf(help, sizeof(help), "%s status.get %s%s",
			    daemon, subdot, scale != 1 ?
			    " (milliseconds there)" : "");
		promtext_header(pt, name, type, help);
		promtext_printf(pt, "%s", name);
		pt_sample_value(pt, &kv->val, scale);
	}
	if (!pt_has_strings(o))
		return;
	snprintf(name, sizeof(name), "%s_", prefix);
	if (path[0] != '\0') {
		promtext_sanitize(name, sizeof(name), path, strlen(path), 0);
		strlcat(name, "_", sizeof(name));
	}
	strlcat(name, "info", sizeof(name));
	if (promtext_claim(pt, name) == -1)
		return;
	snprintf(help, sizeof(help), "%s status.get %s strings, as labels",
	    daemon, dotted[0] ? dotted : "top-level");
	promtext_header(pt, name, "gauge", help);
	promtext_printf(pt, "%s", name);
	pt_labels(pt, o, NULL, NULL, 0, NULL);
	promtext_printf(pt, " 1\n");
}

int
promtext_status(struct promtext *pt, const char *daemon,
    const msgpack_object *status)
{
	char prefix[PT_PREFIX] = "";

	if (status == NULL || status->type != MSGPACK_OBJECT_MAP)
		return -1;
	if (daemon[0] >= '0' && daemon[0] <= '9')
		strlcpy(prefix, "_", sizeof(prefix));
	promtext_sanitize(prefix, sizeof(prefix), daemon, strlen(daemon), 1);
	pt_walk(pt, daemon, prefix, "", "", status, 0, 0);
	return pt->oom ? -1 : 0;
}

/* The label that tells peers apart: the node id, else the name. */
static int
pt_peer_label(const msgpack_object *p, const char **v, size_t *n)
{
	const msgpack_object *o;

	if (p->type != MSGPACK_OBJECT_MAP)
		return -1;
	if (((o = mpack_get(p, "id")) != NULL &&
	    o->type == MSGPACK_OBJECT_STR && o->via.str.size > 0) ||
	    ((o = mpack_get(p, "name")) != NULL &&
	    o->type == MSGPACK_OBJECT_STR && o->via.str.size > 0)) {
		*v = o->via.str.ptr;
		*n = o->via.str.size;
		return 0;
	}
	return -1;
}

/* The numeric keys over all peers, in the order first seen. */
static size_t
pt_peer_keys(const msgpack_object *peers, const msgpack_object **keys,
    size_t max)
{
	const msgpack_object	*p;
	const char		*v;
	size_t			 nkeys = 0, j, vn;
	uint32_t		 i, k;

	for (i = 0; i < peers->via.array.size; i++) {
		p = &peers->via.array.ptr[i];
		if (pt_peer_label(p, &v, &vn) == -1)
			continue;
		for (k = 0; k < p->via.map.size; k++) {
			const msgpack_object_kv *kv = &p->via.map.ptr[k];

			if (kv->key.type != MSGPACK_OBJECT_STR ||
			    kv->key.via.str.size == 0 || !pt_numeric(&kv->val))
				continue;
			for (j = 0; j < nkeys; j++)
				if (keys[j]->via.str.size ==
				    kv->key.via.str.size &&
				    !memcmp(keys[j]->via.str.ptr,
				    kv->key.via.str.ptr, kv->key.via.str.size))
					break;
			if (j == nkeys && nkeys < max)
				keys[nkeys++] = &kv->key;
		}
	}
	return nkeys;
}

static const msgpack_object *
pt_get(const msgpack_object *map, const msgpack_object *key)
{
	uint32_t i;

	for (i = 0; i < map->via.map.size; i++)
		if (map->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
		    map->via.map.ptr[i].key.via.str.size == key->via.str.size &&
		    !memcmp(map->via.map.ptr[i].key.via.str.ptr,
		    key->via.str.ptr, key->via.str.size))
			return &map->via.map.ptr[i].val;
	return NULL;
}

int
promtext_peers(struct promtext *pt, const char *daemon,
    const msgpack_object *peers)
{
	const msgpack_object	*keys[PT_MAXKEYS], *p, *val;
	char			 prefix[PT_PREFIX] = "", name[PT_NAME];
	char			 help[2 * PT_NAME];
	const char		*type, *v;
	double			 scale;
	size_t			 nkeys, j, vn;
	uint32_t		 i;

	if (peers == NULL || peers->type != MSGPACK_OBJECT_ARRAY)
		return -1;
	if (daemon[0] >= '0' && daemon[0] <= '9')
		strlcpy(prefix, "_", sizeof(prefix));
	promtext_sanitize(prefix, sizeof(prefix), daemon, strlen(daemon), 1);
	nkeys = pt_peer_keys(peers, keys, PT_MAXKEYS);
	for (j = 0; j < nkeys; j++) {
		pt_leaf_name(name, sizeof(name), prefix, "peer",
		    keys[j]->via.str.ptr, keys[j]->via.str.size, 0, &type,
		    &scale);
		if (promtext_claim(pt, name) == -1)
			continue;
		snprintf(help, sizeof(help), "%s peer.list %.*s of each "
		    "peer%s", daemon, (int)keys[j]->via.str.size,
		    keys[j]->via.str.ptr,
		    scale != 1 ? " (milliseconds there)" : "");
		promtext_header(pt, name, type, help);
		for (i = 0; i < peers->via.array.size; i++) {
			p = &peers->via.array.ptr[i];
			if (pt_peer_label(p, &v, &vn) == -1 ||
			    (val = pt_get(p, keys[j])) == NULL ||
			    !pt_numeric(val))
				continue;
			promtext_printf(pt, "%s{", name);
			promtext_label(pt, "peer", v, vn);
			promtext_printf(pt, "}");
			pt_sample_value(pt, val, scale);
		}
	}
	snprintf(name, sizeof(name), "%s_peer_info", prefix);
	if (peers->via.array.size > 0 && promtext_claim(pt, name) == 0) {
		snprintf(help, sizeof(help), "%s peer.list strings of each "
		    "peer, as labels", daemon);
		promtext_header(pt, name, "gauge", help);
		for (i = 0; i < peers->via.array.size; i++) {
			p = &peers->via.array.ptr[i];
			if (pt_peer_label(p, &v, &vn) == -1)
				continue;
			promtext_printf(pt, "%s", name);
			pt_labels(pt, p, "peer", v, vn, "id");
			promtext_printf(pt, " 1\n");
		}
	}
	return pt->oom ? -1 : 0;
}

