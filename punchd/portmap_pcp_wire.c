/*
 * PCP (RFC 6887) MAP request and response, IPv4 only (addresses travel as
 * IPv4-mapped IPv6, section 5). No options are sent; options in a response
 * are skipped (the ones a MAP response may carry do not change what we do).
 *
 * Request header (section 7.1) and MAP opcode data (section 11.1):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Version = 2  |R|   Opcode    |         Reserved              |
 *   |                 Requested Lifetime (32 bits)                  |
 *   |            PCP Client's IP Address (128 bits)                 |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Mapping Nonce (96 bits)                       |
 *   |   Protocol    |          Reserved (24 bits)                   |
 *   |        Internal Port          |    Suggested External Port    |
 *   |           Suggested External IP Address (128 bits)            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Response header (section 7.2): byte 2 reserved, byte 3 result code,
 * then lifetime, epoch time, 96 reserved bits; the MAP data follows with
 * the assigned external port and address in place of the suggested ones.
 */
#include <stdio.h>
#include <string.h>

#include "proto/wire.h"
#include "punchd/portmap_priv.h"

#define PCP_HDR_LEN	24
#define PCP_MAP_LEN	36

static void
pcp_put_v4mapped(uint8_t *p, struct in_addr a)
{
	memset(p, 0, 10);
	p[10] = 0xff;
	p[11] = 0xff;
	memcpy(p + 12, &a.s_addr, 4);
}

size_t
pcp_map_request(uint8_t *buf, size_t len, uint32_t lifetime,
    struct in_addr client, const struct pcp_map *map)
{
	if (len < PCP_MAP_REQ_LEN)
		return 0;
	memset(buf, 0, PCP_MAP_REQ_LEN);
	buf[0] = PCP_VERSION;
	buf[1] = PCP_OP_MAP;
	wire_put32(buf + 4, lifetime);
	pcp_put_v4mapped(buf + 8, client);
	memcpy(buf + 24, map->nonce, 12);
	buf[36] = map->protocol;
	wire_put16(buf + 40, map->internal_port);
	wire_put16(buf + 42, map->external_port);
	pcp_put_v4mapped(buf + 44, map->external);
	return PCP_MAP_REQ_LEN;
}

const char *
pcp_result_name(uint8_t result)
{
	static const char *names[] = {
		"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED",
		"MALFORMED_REQUEST", "UNSUPP_OPCODE", "UNSUPP_OPTION",
		"MALFORMED_OPTION", "NETWORK_FAILURE", "NO_RESOURCES",
		"UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL",
		"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
	};

	if (result < sizeof(names) / sizeof(names[0]))
		return names[result];
	return "unknown result";
}

/*
 * 0: r is filled (r->result may still be an error: the caller decides).
 * -1: not a PCP response we can use; `why` says why. A NAT-PMP-only
 * gateway answers a version-2 request with a version-0 packet whose
 * result is 1 (unsupported version, RFC 6886 3.5): that parses as version
 * 0, result UNSUPP_VERSION, so the caller can fall back to NAT-PMP.
 */
int
pcp_response_parse(const uint8_t *buf, size_t len, struct pcp_response *r,
    char *why, size_t whylen)
{
	memset(r, 0, sizeof(*r));
	if (len >= 4 && buf[0] == 0) {
		/* NAT-PMP header: version, opcode, 16-bit result */
		r->version = 0;
		r->opcode = buf[1] & 0x7f;
		r->result = wire_get16(buf + 2) == 1 ? 1 : 0xff;
		if (r->result != 1) {
			snprintf(why, whylen, "version 0 (NAT-PMP) answer, "
			    "result %u", wire_get16(buf + 2));
			return -1;
		}
		return 0;
	}
	if (len < PCP_HDR_LEN) {
		snprintf(why, whylen, "truncated response (%zu bytes)", len);
		return -1;
	}
	if (len > PCP_MAX_LEN || len % 4 != 0) {
		snprintf(why, whylen, "bad response length %zu", len);
		return -1;
	}
	r->version = buf[0];
	if (!(buf[1] & 0x80)) {
		snprintf(why, whylen, "a request, not a response");
		return -1;
	}
	r->opcode = buf[1] & 0x7f;
	r->result = buf[3];
	r->lifetime = wire_get32(buf + 4);
	r->epoch = wire_get32(buf + 8);
	if (r->version != PCP_VERSION) {
		/* section 9: an error answer tells the highest version the
		 * server speaks in its version field */
		if (r->result == 1)
			return 0;
		snprintf(why, whylen, "unsupported version %u", r->version);
		return -1;
	}
	if (r->opcode != PCP_OP_MAP)
		return 0;
	if (len < PCP_HDR_LEN + PCP_MAP_LEN) {
		if (r->result != 0)
			return 0;	/* errors may come without the data */
		snprintf(why, whylen, "truncated MAP response (%zu bytes)",
		    len);
		return -1;
	}
	buf += PCP_HDR_LEN;
	memcpy(r->map.nonce, buf, 12);
	r->map.protocol = buf[12];
	r->map.internal_port = wire_get16(buf + 16);
	r->map.external_port = wire_get16(buf + 18);
	if (memcmp(buf + 20, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0) {
		if (r->result == 0) {
			snprintf(why, whylen, "external address is not IPv4");
			return -1;
		}
	} else
		memcpy(&r->map.external.s_addr, buf + 32, 4);
	return 0;
}
