/*
 * Pure classification, kept apart from the I/O so unit tests can link it.
 */
#include "natbehav.h"

const char *
natbehav_term(int b)
{
	switch (b) {
	case NAT_EI:
		return "endpoint-independent";
	case NAT_AD:
		return "address-dependent";
	case NAT_APD:
		return "address-and-port-dependent";
	default:
		return "unknown";
	}
}

void
natbehav_classify(struct nat_result *r)
{
	if (r->behind_nat == 0) {
		r->classic = "open internet";
		r->explanation = r->filtering == NAT_EI || r->filtering ==
		    NAT_UNKNOWN ?
		    "This host has a public address: peers can reach it "
		    "directly." :
		    "This host has a public address but a firewall drops "
		    "unsolicited traffic: peers reach it once it has sent to "
		    "them, so hole punching works.";
		return;
	}
	if (r->mapping == NAT_EI) {
		switch (r->filtering) {
		case NAT_EI:
			r->classic = "full cone";
			r->explanation = "Once this host has sent one packet "
			    "out, anyone can reach its public endpoint: direct "
			    "paths work with every kind of peer.";
			break;
		case NAT_AD:
			r->classic = "restricted cone";
			r->explanation = "The public endpoint is the same for "
			    "every peer, and a peer gets in once this host has "
			    "sent to its IP: hole punching works with every "
			    "peer except some behind symmetric NATs.";
			break;
		case NAT_APD:
			r->classic = "port-restricted cone";
			r->explanation = "The public endpoint is the same for "
			    "every peer, but a peer gets in only once this host "
			    "has sent to its exact IP and port: hole punching "
			    "works unless the other side is symmetric, which "
			    "needs the relay.";
			break;
		default:
			r->classic = "cone (filtering unknown)";
			r->explanation = "The public endpoint is the same for "
			    "every peer, so hole punching works with most "
			    "peers; no server offered RFC 5780 to test "
			    "filtering.";
			break;
		}
		return;
	}
	if (r->mapping == NAT_AD || r->mapping == NAT_APD) {
		r->classic = "symmetric";
		r->explanation = "Every destination gets a different public "
		    "port, so the endpoint STUN reports is not the one peers "
		    "see: direct paths work only with peers that accept "
		    "anyone (open or full cone, learned as peer-reflexive); "
		    "otherwise traffic goes through the relay.";
		return;
	}
	r->classic = "unknown";
	r->explanation = "The NAT's behaviour could not be measured: no STUN "
	    "server answered the tests.";
}
