/*
 * What an invite says about where this node is (mesh.invite): its
 * endpoints (local, public, relay) and network_info (local and public IP,
 * behind a NAT, NAT type, the STUN server that saw the public endpoint).
 * docs/invite-format.md has the fields.
 *
 * The local endpoint is the address the kernel would send from towards
 * the internet, i.e. over the default route: on a host with a docker0
 * bridge (172.17.0.1, often the first address getifaddrs lists) the LAN
 * address the default route leaves by is the one a joiner on the same
 * network can reach. One per address family punchd listens on: IPv4 in
 * endpoints.local, IPv6 beside it in endpoints.local6.
 *
 * Public endpoints likewise, one per family (issue 13, item 6): IPv4 in
 * endpoints.public (the gateway's port mapping, else STUN's), IPv6 beside
 * it in endpoints.public6: STUN's IPv6 mapping of our socket, else the
 * global IPv6 address the default route leaves by (IPv6 has no NAT in
 * most networks: that address is what the world sees).
 */
#include <string.h>
#include <netinet/in.h>

#include "common/netaddr.h"
#include "common/netroute.h"
#include "proto/invite.h"
#include "punchd.h"
#include "inviter.h"

void
inviter_ends_addr(const struct sockaddr_storage *ss, struct invite_addr *a)
{
	const struct sockaddr_in	*s4 = (const void *)ss;
	const struct sockaddr_in6	*s6 = (const void *)ss;

	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = INVITE_AF_INET;
		a->port = ntohs(s4->sin_port);
		memcpy(a->addr, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		a->family = INVITE_AF_INET6;
		a->port = ntohs(s6->sin6_port);
		memcpy(a->addr, &s6->sin6_addr, 16);
	}
}

/*
 * The local endpoint of one family: the host address (punchd's port) that
 * the route towards the default gateway leaves from. Without a default
 * route of that family: for IPv4 the first host address that is not
 * loopback (a LAN without a gateway), then any (loopback tests); for IPv6
 * none. 0 or -1.
 */
int
inviter_ends_local(struct punchd *pd, int family, struct sockaddr_storage *out)
{
	struct sockaddr_storage	host[PUNCH_MAX_CANDS], src;
	int			i, n, pick = -1;

	n = sock_host_addrs(pd, host, PUNCH_MAX_CANDS);
	if (netroute_default_src(family, &src) == 0)
		for (i = 0; i < n && pick == -1; i++)
			if (netaddr_equal_ip((struct sockaddr *)&host[i],
			    (struct sockaddr *)&src))
				pick = i;
	for (i = 0; i < n && pick == -1 && family == AF_INET; i++)
		if (host[i].ss_family == AF_INET &&
		    (ntohl(((struct sockaddr_in *)&host[i])->sin_addr.s_addr) >>
		    24) != 127)
			pick = i;
	for (i = 0; i < n && pick == -1 && family == AF_INET; i++)
		if (host[i].ss_family == AF_INET)
			pick = i;
	if (pick == -1)
		return -1;
	*out = host[pick];
	return 0;
}

/* the local endpoints: IPv4 in ep_local and IPv6 in ep_local6, or the
 * IPv6 one alone in ep_local */
static void
inviter_ends_locals(struct punchd *pd, struct invite *code)
{
	struct sockaddr_storage	ss;
	struct invite_addr	v6;

	memset(&v6, 0, sizeof(v6));
	if (inviter_ends_local(pd, AF_INET, &ss) == 0)
		inviter_ends_addr(&ss, &code->ep_local);
	if (inviter_ends_local(pd, AF_INET6, &ss) == 0)
		inviter_ends_addr(&ss, &v6);
	if (code->ep_local.family == INVITE_AF_NONE)
		code->ep_local = v6;
	else
		code->ep_local6 = v6;
}

/* the public endpoint came from STUN: say which server reported it */
static void
inviter_ends_stun(struct punchd *pd, struct invite *code)
{
	const struct sockaddr_storage	*pub[2] = { &pd->public4, &pd->public6 };
	const char			*src[2] = { pd->stun_source4,
					    pd->stun_source6 };
	const int			 has[2] = { pd->has_public4,
					    pd->has_public6 };
	struct invite_addr		 a;
	int				 i;

	for (i = 0; i < 2 && code->stun_source[0] == '\0'; i++) {
		if (!has[i])
			continue;
		inviter_ends_addr(pub[i], &a);
		if (!memcmp(&a, &code->ep_public, sizeof(a)))
			strlcpy(code->stun_source, src[i],
			    sizeof(code->stun_source));
	}
}

/* a global unicast IPv6 address (2000::/3): reachable from anywhere
 * a firewall lets it be */
static int
inviter_ends_global6(const struct sockaddr_storage *ss)
{
	const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;

	return ss->ss_family == AF_INET6 && (a[0] & 0xe0) == 0x20;
}

/* our public IPv6 endpoint: STUN's mapping, else the global address the
 * IPv6 default route leaves by; 0 or -1 */
static int
inviter_ends_public6(struct punchd *pd, struct invite_addr *a)
{
	struct sockaddr_storage ss;

	if (pd->has_public6)
		inviter_ends_addr(&pd->public6, a);
	else if (inviter_ends_local(pd, AF_INET6, &ss) == 0 &&
	    inviter_ends_global6(&ss))
		inviter_ends_addr(&ss, a);
	else
		return -1;
	return 0;
}

/*
 * Fill code's endpoints and network_info (inviter.h: absent = what punchd
 * knows, withheld, or as given). -1 when a given endpoint is malformed.
 */
int
inviter_ends_fill(struct punchd *pd, const struct inviter_req *req,
    struct invite *code)
{
	char relay[256];

	if (req->local_how == INVITER_AUTO)
		inviter_ends_locals(pd, code);
	else if (req->local_how == INVITER_GIVEN &&
	    invite_addr_parse(req->local, &code->ep_local) == -1)
		return -1;
	if (code->ep_local.family != INVITE_AF_NONE) {
		code->local_ip = code->ep_local;
		code->local_ip.port = 0;
	}
	/* a port the gateway maps to us takes anyone's HELLO; a STUN
	 * mapping behind a filtering NAT only its own peers' */
	if (req->public_how == INVITER_AUTO && pd->has_mapped)
		inviter_ends_addr(&pd->mapped, &code->ep_public);
	else if (req->public_how == INVITER_AUTO && pd->has_public4)
		inviter_ends_addr(&pd->public4, &code->ep_public);
	else if (req->public_how == INVITER_AUTO)
		(void)inviter_ends_public6(pd, &code->ep_public);
	else if (req->public_how == INVITER_GIVEN &&
	    invite_addr_parse(req->public, &code->ep_public) == -1)
		return -1;
	/* and the IPv6 one beside an IPv4 one */
	if (req->public_how == INVITER_AUTO &&
	    code->ep_public.family == INVITE_AF_INET)
		(void)inviter_ends_public6(pd, &code->ep_public6);
	if (code->ep_public.family != INVITE_AF_NONE) {
		code->public_ip = code->ep_public;
		code->public_ip.port = 0;
		inviter_ends_stun(pd, code);
	}
	strlcpy(code->nat_type, pd->nat_type, sizeof(code->nat_type));
	if (code->ep_public.family != INVITE_AF_NONE &&
	    code->ep_local.family != INVITE_AF_NONE)
		code->behind_nat = memcmp(code->local_ip.addr,
		    code->public_ip.addr, 16) != 0 ||
		    code->ep_local.port != code->ep_public.port;
	if (req->relay_how == INVITER_AUTO && pd->relay_urls[0] != '\0') {
		strlcpy(relay, pd->relay_urls, sizeof(relay));
		relay[strcspn(relay, ", ")] = '\0';
		strlcpy(code->ep_relay, relay, sizeof(code->ep_relay));
	} else if (req->relay_how == INVITER_GIVEN)
		strlcpy(code->ep_relay, req->relay, sizeof(code->ep_relay));
	return 0;
}
