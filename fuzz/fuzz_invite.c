/*
 * Invite codes and join URIs (proto/invite.h), what `meshctl join` reads
 * from a stranger's message: invite_parse (code or URI), and on success
 * the invite encoded again (code, URI, JSON) and decoded back to the same
 * fields. Also the helpers a join calls on pieces of it: the address
 * parser and Crockford base32.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/invite.h"

#define NOW	1767225600ull

static void
roundtrip(const struct invite *inv)
{
	static char	 code[INVITE_CODE_MAX], uri[INVITE_URI_MAX];
	struct invite	 b;
	char		 err[128];
	json_t		*j;

	if (invite_encode(inv, code, sizeof(code)) < 0)
		return;	/* a URI's extras may not fit a code: fine */
	if (invite_decode(code, 0, &b, err, sizeof(err)) != INVITE_OK)
		abort();
	if (memcmp(b.mesh_id, inv->mesh_id, sizeof(b.mesh_id)) ||
	    memcmp(b.secret, inv->secret, sizeof(b.secret)) ||
	    b.expires != inv->expires || b.max_uses != inv->max_uses ||
	    strcmp(b.mesh_name, inv->mesh_name) ||
	    strcmp(b.ep_relay, inv->ep_relay))
		abort();
	if (invite_uri_format(inv, uri, sizeof(uri)) > 0) {
		if (invite_uri_parse(uri, 0, &b, err, sizeof(err)) !=
		    INVITE_OK || b.expires != inv->expires ||
		    strcmp(b.ep_relay, inv->ep_relay))
			abort();
	}
	if ((j = invite_to_json(inv)) != NULL)
		json_decref(j);
	invite_clear(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct invite		 inv;
	struct invite_addr	 a;
	uint8_t			 blob[INVITE_BLOB_MAX + 16];
	char			*s, err[128], as[128];
	unsigned		 trailing;
	size_t			 bad;
	int			 r;

	if (size > INVITE_URI_MAX + 16)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	r = invite_parse(s, NOW, &inv, err, sizeof(err));
	(void)invite_strerror(r);
	if (strnlen(err, sizeof(err)) == sizeof(err))
		abort();
	if (r == INVITE_OK || r == INVITE_ERR_EXPIRED) {
		(void)invite_addr_str(&inv.ep_local, "udp", as, sizeof(as));
		(void)invite_addr_str(&inv.public_ip, NULL, as, sizeof(as));
		roundtrip(&inv);
	}
	invite_clear(&inv);
	/* the same text as each form on its own, and without expiry */
	(void)invite_decode(s, 0, &inv, NULL, 0);
	invite_clear(&inv);
	(void)invite_uri_parse(s, 0, &inv, err, sizeof(err));
	invite_clear(&inv);

	if (invite_addr_parse(s, &a) == 0)
		(void)invite_addr_str(&a, "udp", as, sizeof(as));
	(void)invite_b32_decode(s, blob, sizeof(blob), &trailing, &bad);
	free(s);
	return 0;
}
