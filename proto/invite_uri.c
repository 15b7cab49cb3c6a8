/*
 * Join URIs (atmosphere://join?...), the form an invite takes in a link or
 * a QR code, and invite_parse() that takes either form: see invite.h for
 * the format and docs/invite-format.md for the reasoning. Like invite.c,
 * nothing here logs, so nothing leaks the join secret.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "proto/invite.h"
#include "proto/invite_priv.h"

#define URI_SCHEME	"atmosphere://join"

struct sbuf {
	char	*p;
	size_t	 cap, len;
	int	 overflow;
};

static void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/*
 * RFC 3986 query value: unreserved characters and ":/@," stay as they are
 * (legal in a query, and they keep URLs readable), the rest is %XX. '&',
 * '=', '+' and '#' are always escaped, so values never break the query.
 */
static void
sbuf_add_pct(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];

	for (; *s != '\0'; s++) {
		unsigned char c = *s;

		if (isalnum(c) || strchr("-._~:/@,", c) != NULL) {
			sbuf_add(b, (const char *)&c, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		sbuf_add(b, esc, 3);
	}
}

static json_t *
addr_json(const struct invite_addr *a, const char *scheme)
{
	char buf[80];

	if (a->family == INVITE_AF_NONE)
		return json_null();
	return json_string(invite_addr_str(a, scheme, buf, sizeof(buf)));
}

static json_t *
endpoints_json(const struct invite *inv)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "local", addr_json(&inv->ep_local, "udp://"));
	/* only when there is one: the seeds' readers know three keys */
	if (inv->ep_local6.family != INVITE_AF_NONE)
		json_object_set_new(o, "local6", addr_json(&inv->ep_local6,
		    "udp://"));
	json_object_set_new(o, "public", addr_json(&inv->ep_public, "udp://"));
	if (inv->ep_public6.family != INVITE_AF_NONE)
		json_object_set_new(o, "public6", addr_json(&inv->ep_public6,
		    "udp://"));
	json_object_set_new(o, "relay", inv->ep_relay[0] ?
	    json_string(inv->ep_relay) : json_null());
	return o;
}

int
invite_uri_format(const struct invite *inv, char *buf, size_t cap)
{
	char		 code[INVITE_CODE_MAX];
	struct sbuf	 b = { buf, cap, 0, 0 };
	json_t		*ep;
	char		*js;

	if (cap == 0 || invite_encode(inv, code, sizeof(code)) < 0)
		return -1;
	buf[0] = '\0';
	sbuf_add(&b, URI_SCHEME "?token=", strlen(URI_SCHEME "?token="));
	sbuf_add(&b, code, strlen(code));
	sodium_memzero(code, sizeof(code));
	sbuf_add(&b, "&mesh=", 6);
	sbuf_add_pct(&b, inv->mesh_name);
	if (inv->ep_local.family || inv->ep_public.family || inv->ep_relay[0]) {
		if ((ep = endpoints_json(inv)) == NULL)
			return -1;
		js = json_dumps(ep, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(ep);
		if (js == NULL)
			return -1;
		sbuf_add(&b, "&endpoints=", 11);
		sbuf_add_pct(&b, js);
		free(js);
	}
	if (b.overflow) {
		sodium_memzero(buf, cap);
		return -1;
	}
	return (int)b.len;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..len) into out (>= len + 1); '+' is a space
 * (form encoding, what most QR and web tools produce). 0 or -1. */
static int
pct_decode(const char *s, size_t len, char *out, const char **why)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] != '%') {
			out[o++] = s[i];
		} else {
			if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				*why = "unterminated or bad %-escape";
				return -1;
			}
			if (hi == 0 && lo == 0) {
				*why = "%00 (NUL)";
				return -1;
			}
			out[o++] = hi << 4 | lo;
			i += 2;
		}
	}
	out[o] = '\0';
	return 0;
}

/* End of a raw JSON object starting at s ('{'), strings and escapes
 * respected, or NULL when it never closes. Depth is bounded because
 * jansson parses it next anyway; this only finds where it stops. */
static const char *
json_span_end(const char *s)
{
	int depth = 0, instr = 0;

	for (; *s != '\0'; s++) {
		if (instr) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				instr = 0;
			continue;
		}
		if (*s == '"')
			instr = 1;
		else if (*s == '{' || *s == '[')
			depth++;
		else if ((*s == '}' || *s == ']') && --depth == 0)
			return s + 1;
	}
	return NULL;
}

enum uri_param { P_TOKEN, P_MESH, P_ENDPOINTS, P_ENDPOINT, P_N };

struct uri_params {
	const char	*name[P_N];
	char		*val[P_N];	/* decoded, NUL-terminated, or NULL */
	char		 store[INVITE_URI_MAX + P_N];
	size_t		 used;
};

static int
uri_split(const char *q, struct uri_params *up, char *err, size_t errlen)
{
	static const char *names[P_N] = { "token", "mesh", "endpoints",
	    "endpoint" };
	const char	*k, *eq, *v, *vend, *why;
	size_t		 klen;
	int		 i, raw;

	memcpy(up->name, names, sizeof(names));
	while (*q != '\0') {
		k = q;
		klen = strcspn(k, "=&");
		eq = k + klen;
		if (*eq != '=') {		/* "&flag&" or "&&": ignore */
			q = *eq == '&' ? eq + 1 : eq;
			continue;
		}
		v = eq + 1;
		raw = 0;
		if (klen == 9 && strncmp(k, "endpoints", 9) == 0 && *v == '{') {
			/* the seeds' form: JSON straight in the query */
			if ((vend = json_span_end(v)) == NULL)
				return invite_fail(err, errlen, INVITE_ERR_URI,
				    "invite URI: endpoints JSON never closes");
			if (*vend != '\0' && *vend != '&')
				return invite_fail(err, errlen, INVITE_ERR_URI,
				    "invite URI: text after the endpoints JSON");
			raw = 1;
		} else
			vend = v + strcspn(v, "&");
		q = *vend == '&' ? vend + 1 : vend;
		for (i = 0; i < P_N; i++)
			if (strlen(names[i]) == klen &&
			    strncmp(k, names[i], klen) == 0)
				break;
		if (i == P_N)
			continue;		/* unknown: ignored */
		if (up->val[i] != NULL)
			return invite_fail(err, errlen, INVITE_ERR_URI,
			    "invite URI: parameter %s given twice", names[i]);
		up->val[i] = up->store + up->used;
		if (raw) {
			memcpy(up->val[i], v, vend - v);
			up->val[i][vend - v] = '\0';
		} else if (pct_decode(v, vend - v, up->val[i], &why) != 0)
			return invite_fail(err, errlen, INVITE_ERR_URI,
			    "invite URI: %s in parameter %s", why, names[i]);
		up->used += strlen(up->val[i]) + 1;
	}
	return 0;
}

/*
 * A node endpoint with a scheme other than udp:// (the seeds' app puts
 * ws://IP:PORT there): a transport no node speaks. 1 when s is one.
 */
static int
uri_foreign_transport(const char *s)
{
	const char *c = strstr(s, "://");

	return c != NULL && !(c - s == 3 && strncasecmp(s, "udp", 3) == 0);
}

/* "udp://IP:PORT", "IP:PORT" -> addr; ws[s]:// -> relay. -1 malformed,
 * -2 a node endpoint over another transport */
static int
uri_fill_endpoint(struct invite *inv, const char *which, const char *s)
{
	struct invite_addr a, *dst;

	if (strcmp(which, "relay") == 0 || (strcmp(which, "endpoint") == 0 &&
	    (strncasecmp(s, "ws://", 5) == 0 || strncasecmp(s, "wss://", 6) == 0))) {
		if (!invite_relay_valid(s, strlen(s)))
			return -1;
		if (inv->ep_relay[0] == '\0')
			strlcpy(inv->ep_relay, s, sizeof(inv->ep_relay));
		return 0;
	}
	if (uri_foreign_transport(s))
		return -2;
	if (invite_addr_parse(s, &a) != 0)
		return -1;
	if (strcmp(which, "local6") == 0) {
		if (a.family != INVITE_AF_INET6)
			return -1;
		/* beside an IPv4 local endpoint, else it is the local one */
		dst = inv->ep_local.family == INVITE_AF_INET ? &inv->ep_local6 :
		    &inv->ep_local;
	} else if (strcmp(which, "public6") == 0) {
		if (a.family != INVITE_AF_INET6)
			return -1;
		dst = inv->ep_public.family == INVITE_AF_INET ?
		    &inv->ep_public6 : &inv->ep_public;
	} else
		dst = strcmp(which, "local") == 0 ? &inv->ep_local :
		    &inv->ep_public;
	if (dst->family == INVITE_AF_NONE)
		*dst = a;
	return 0;
}

static int
uri_endpoints(struct invite *inv, const char *js, char *err, size_t errlen)
{
	static const char *keys[] = { "local", "local6", "public", "public6",
	    "relay" };
	json_error_t	 jerr;
	json_t		*o, *v;
	size_t		 i;
	int		 r;

	o = json_loads(js, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (o == NULL)
		return invite_fail(err, errlen, INVITE_ERR_FIELD,
		    "malformed field endpoints in invite URI: invalid JSON "
		    "(%s)", jerr.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return invite_fail(err, errlen, INVITE_ERR_FIELD,
		    "malformed field endpoints in invite URI: not an object");
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		r = 0;
		v = json_object_get(o, keys[i]);
		if (v == NULL || json_is_null(v) || (json_is_string(v) &&
		    json_string_length(v) == 0))
			continue;
		if (json_is_string(v) && strlen(json_string_value(v)) ==
		    json_string_length(v) && (r = uri_fill_endpoint(inv,
		    keys[i], json_string_value(v))) == -2) {
			r = invite_fail(err, errlen, INVITE_ERR_TRANSPORT,
			    "endpoints.%s in the invite URI is %.80s: Atmosphere "
			    "nodes are reached over UDP (udp://IP:PORT), only a "
			    "relay is ws:// or wss:// (an invite made by another "
			    "app?)", keys[i], json_string_value(v));
			json_decref(o);
			return r;
		}
		if (!json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v) || r != 0) {
			json_decref(o);
			return invite_fail(err, errlen, INVITE_ERR_FIELD,
			    "malformed field endpoints.%s in invite URI",
			    keys[i]);
		}
	}
	json_decref(o);
	return 0;
}

int
invite_uri_parse(const char *uri, uint64_t now, struct invite *inv,
    char *err, size_t errlen)
{
	struct uri_params *up;
	const char	*q;
	char		*copy;
	size_t		 len;
	int		 r;

	invite_init(inv);
	if (uri == NULL)
		return invite_fail(err, errlen, INVITE_ERR_EMPTY, "empty invite URI");
	while (isspace((unsigned char)*uri))
		uri++;
	len = strlen(uri);
	while (len > 0 && isspace((unsigned char)uri[len - 1]))
		len--;
	if (len == 0)
		return invite_fail(err, errlen, INVITE_ERR_EMPTY, "empty invite URI");
	if (len > INVITE_URI_MAX)
		return invite_fail(err, errlen, INVITE_ERR_TOOLONG,
		    "invite URI too long (more than %d characters)",
		    INVITE_URI_MAX);
	if (strncasecmp(uri, "atmosphere:", 11) != 0)
		return invite_fail(err, errlen, INVITE_ERR_PREFIX,
		    "not an Atmosphere invite URI (expected " URI_SCHEME
		    "?token=...)");
	if (strncasecmp(uri, URI_SCHEME, strlen(URI_SCHEME)) != 0)
		return invite_fail(err, errlen, INVITE_ERR_URI,
		    "invite URI: expected " URI_SCHEME "?token=...");
	q = uri + strlen(URI_SCHEME);
	if (*q == '/')
		q++;
	if (*q != '?')
		return invite_fail(err, errlen, INVITE_ERR_URI,
		    "invite URI: expected " URI_SCHEME "?token=...");
	q++;

	if ((up = calloc(1, sizeof(*up))) == NULL)
		return invite_fail(err, errlen, INVITE_ERR_URI, "out of memory");
	/* work on a copy cut at len: trailing blanks are not part of it */
	if ((copy = strndup(q, len - (q - uri))) == NULL) {
		free(up);
		return invite_fail(err, errlen, INVITE_ERR_URI, "out of memory");
	}
	if ((r = uri_split(copy, up, err, errlen)) != 0)
		goto out;
	if (up->val[P_TOKEN] == NULL || up->val[P_TOKEN][0] == '\0') {
		r = invite_fail(err, errlen, INVITE_ERR_URI,
		    "invite URI has no token parameter");
		goto out;
	}
	/* a transport we do not speak says so before the token is read: the
	 * seeds' app writes ws:// node endpoints and tokens of its own */
	if (up->val[P_ENDPOINTS] != NULL && up->val[P_ENDPOINTS][0] != '\0' &&
	    uri_endpoints(inv, up->val[P_ENDPOINTS], err, errlen) ==
	    INVITE_ERR_TRANSPORT) {
		r = INVITE_ERR_TRANSPORT;
		goto out;
	}
	if ((r = invite_decode(up->val[P_TOKEN], now, inv, err, errlen)) !=
	    INVITE_OK)
		goto out;
	if (up->val[P_ENDPOINTS] != NULL && up->val[P_ENDPOINTS][0] != '\0' &&
	    (r = uri_endpoints(inv, up->val[P_ENDPOINTS], err, errlen)) != 0)
		goto out;
	if (up->val[P_ENDPOINT] != NULL && up->val[P_ENDPOINT][0] != '\0' &&
	    uri_fill_endpoint(inv, "endpoint", up->val[P_ENDPOINT]) != 0) {
		r = invite_fail(err, errlen, INVITE_ERR_FIELD,
		    "malformed field endpoint in invite URI");
		goto out;
	}
	/* mesh= is a readable copy; the token's name wins */
	r = INVITE_OK;
 out:
	if (r != INVITE_OK)
		invite_clear(inv);
	sodium_memzero(up, sizeof(*up));
	sodium_memzero(copy, strlen(copy));
	free(copy);
	free(up);
	return r;
}

int
invite_parse(const char *s, uint64_t now, struct invite *inv, char *err,
    size_t errlen)
{
	if (s == NULL)
		s = "";
	while (isspace((unsigned char)*s))
		s++;
	if (strncasecmp(s, "atmosphere:", 11) == 0)
		return invite_uri_parse(s, now, inv, err, errlen);
	return invite_decode(s, now, inv, err, errlen);
}

/* --- JSON for meshctl invite --json -------------------------------------------- */

static json_t *
hex_json(const uint8_t *b, size_t len)
{
	char h[2 * INVITE_PK_LEN + 1];

	sodium_bin2hex(h, sizeof(h), b, len);
	return json_string(h);
}

json_t *
invite_to_json(const struct invite *inv)
{
	char		 code[INVITE_CODE_MAX], uri[INVITE_URI_MAX], when[32];
	char		 ip[64];
	json_t		*o = NULL, *ni, *ep, *legacy;
	struct tm	 tm;
	time_t		 t = (time_t)inv->expires;

	if (invite_encode(inv, code, sizeof(code)) < 0 ||
	    invite_uri_format(inv, uri, sizeof(uri)) < 0)
		goto out;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		goto out;
	if ((o = json_object()) == NULL || (ep = endpoints_json(inv)) == NULL ||
	    (ni = json_object()) == NULL) {
		json_decref(o);
		o = NULL;
		goto out;
	}
	legacy = json_incref(json_object_get(ep, "public"));
	if (json_is_null(legacy)) {
		json_decref(legacy);
		legacy = json_incref(json_object_get(ep, "relay"));
	}
	if (json_is_null(legacy)) {
		json_decref(legacy);
		legacy = json_incref(json_object_get(ep, "local"));
	}
	json_object_set_new(o, "version", json_integer(INVITE_VERSION));
	json_object_set_new(o, "token", json_string(code));
	json_object_set_new(o, "uri", json_string(uri));
	/* the seeds' name for what the QR code holds: the same URI */
	json_object_set_new(o, "qr_data", json_string(uri));
	json_object_set_new(o, "mesh_id", hex_json(inv->mesh_id,
	    INVITE_MESH_ID_LEN));
	json_object_set_new(o, "mesh_name", json_string(inv->mesh_name));
	json_object_set_new(o, "inviter_id", hex_json(inv->inviter_id,
	    INVITE_NODEID_LEN));
	json_object_set_new(o, "inviter_public_key", hex_json(inv->inviter_pk,
	    INVITE_PK_LEN));
	json_object_set_new(o, "expires", json_integer((json_int_t)inv->expires));
	json_object_set_new(o, "expires_at", json_string(when));
	json_object_set_new(o, "max_uses", json_integer(inv->max_uses));
	json_object_set_new(o, "endpoints", ep);
	json_object_set_new(o, "endpoint", legacy);
	json_object_set_new(ni, "local_ip", inv->local_ip.family ?
	    json_string(invite_addr_str(&inv->local_ip, NULL, ip, sizeof(ip))) :
	    json_null());
	json_object_set_new(ni, "public_ip", inv->public_ip.family ?
	    json_string(invite_addr_str(&inv->public_ip, NULL, ip, sizeof(ip))) :
	    json_null());
	json_object_set_new(ni, "is_behind_nat", inv->behind_nat < 0 ?
	    json_null() : json_boolean(inv->behind_nat));
	json_object_set_new(ni, "nat_type", inv->nat_type[0] ?
	    json_string(inv->nat_type) : json_null());
	json_object_set_new(ni, "stun_source", inv->stun_source[0] ?
	    json_string(inv->stun_source) : json_null());
	json_object_set_new(o, "network_info", ni);
 out:
	sodium_memzero(code, sizeof(code));
	sodium_memzero(uri, sizeof(uri));
	return o;
}
