/*
 * STUN codec: stun_decode() on arbitrary datagrams, then what a receiver
 * does with a decoded message: every string read to its end (so ASan sees
 * a bad pointer or length), MESSAGE-INTEGRITY checked with a short-term and
 * a long-term key, and the decoded fields encoded again and decoded back
 * (the encoder must accept whatever the decoder produced).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"

/* RFC 5769 section 2: short-term password, long-term user/realm/password */
#define PASS_SHORT	"VOkJxbRl1RmTxUk/WvJxBt"

static unsigned
touch(const char *p, size_t n)
{
	unsigned	h = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		h = h * 31 + (unsigned char)p[i];
	return h;
}

static void
reencode(const struct stun_msg *m)
{
	uint8_t			buf[2048];
	struct stun_writer	w;
	struct stun_msg		m2;
	char			reason[256];
	size_t			n;
	int			len;

	stun_init(&w, buf, sizeof(buf), m->method, m->cls, m->tid);
	if (m->has & STUN_HAS_XOR_MAPPED)
		stun_add_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS,
		    (const struct sockaddr *)&m->xor_mapped);
	if (m->has & STUN_HAS_MAPPED)
		stun_add_addr(&w, STUN_ATTR_MAPPED_ADDRESS,
		    (const struct sockaddr *)&m->mapped);
	if (m->has & STUN_HAS_OTHER_ADDRESS)
		stun_add_addr(&w, STUN_ATTR_OTHER_ADDRESS,
		    (const struct sockaddr *)&m->other_address);
	if (m->has & STUN_HAS_CHANGE_REQUEST)
		stun_add_change_request(&w, m->change_request);
	if (m->has & STUN_HAS_RESPONSE_PORT)
		stun_add_response_port(&w, m->response_port);
	if (m->has & STUN_HAS_ERROR) {
		n = m->error_reason_len < sizeof(reason) - 1 ?
		    m->error_reason_len : sizeof(reason) - 1;
		memcpy(reason, m->error_reason, n);
		reason[n] = '\0';
		stun_add_error(&w, m->error_code, reason);
	}
	if (m->n_unknown_required > 0)
		stun_add_unknown(&w, m->unknown_required,
		    m->n_unknown_required);
	stun_add_integrity(&w, (const uint8_t *)PASS_SHORT,
	    strlen(PASS_SHORT));
	stun_add_fingerprint(&w);
	len = stun_finish(&w);
	if (len < 0)
		return;		/* e.g. an error reason we cannot carry */
	if (stun_decode(buf, (size_t)len, &m2) != STUN_OK)
		abort();	/* we wrote something we cannot read */
	if (!stun_check_integrity(buf, (size_t)len, &m2,
	    (const uint8_t *)PASS_SHORT, strlen(PASS_SHORT)))
		abort();
	if (m2.method != m->method || m2.cls != m->cls ||
	    memcmp(m2.tid, m->tid, STUN_TID_LEN) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg	m;
	uint8_t		lt[16];
	volatile unsigned sink = 0;
	size_t		i;

	(void)stun_is_stun(data, size);
	if (stun_decode(data, size, &m) != STUN_OK)
		return 0;
	if (m.has & STUN_HAS_SOFTWARE)
		sink += touch(m.software, m.software_len);
	if (m.has & STUN_HAS_USERNAME)
		sink += touch(m.username, m.username_len);
	if (m.has & STUN_HAS_REALM)
		sink += touch(m.realm, m.realm_len);
	if (m.has & STUN_HAS_NONCE)
		sink += touch(m.nonce, m.nonce_len);
	if (m.has & STUN_HAS_ERROR)
		sink += touch(m.error_reason, m.error_reason_len);
	for (i = 0; i < m.n_unknown_attrs; i++)
		sink += m.unknown_attrs[i];
	if (m.has & STUN_HAS_INTEGRITY) {
		sink += stun_check_integrity(data, size, &m,
		    (const uint8_t *)PASS_SHORT, strlen(PASS_SHORT));
		stun_longterm_key("\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa"
		    "\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9", "example.org",
		    "TheMatrIX", lt);
		sink += stun_check_integrity(data, size, &m, lt, sizeof(lt));
	}
	(void)sink;
	reencode(&m);
	return 0;
}
