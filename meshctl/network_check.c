/*
 * meshctl network's netcheck: one verdict per question (UDP, IPv4, IPv6,
 * mapping varies by destination, hairpin), each with the evidence or, when
 * unknown, why and what to add. Built from stund's nat.get and stun.check
 * as one JSON object (`netcheck` in --json), printed from that object, so
 * people and scripts read the same verdicts.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "meshctl.h"

#define NC_ADD_SERVER "add one to stund.servers, e.g. stun.stunprotocol.org:3478"

static const char *
nc_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void
nc_set(json_t *nc, const char *key, int verdict, const char *note)
{
	json_object_set_new(nc, key, verdict == -1 ? json_null() :
	    json_boolean(verdict));
	if (note != NULL) {
		char k[64];

		snprintf(k, sizeof(k), "%s_note", key);
		json_object_set_new(nc, k, json_string(note));
	}
}

/* the names of the servers that did not answer, "a, b" */
static void
nc_silent(const json_t *check, char *buf, size_t len)
{
	const json_t	*s;
	size_t		 i, off = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(check, "servers"), i, s)
		if (!json_is_true(json_object_get(s, "ok")) && off < len)
			off += snprintf(buf + off, len - off, "%s%s (%s)",
			    off ? ", " : "", nc_str(s, "server"),
			    nc_str(s, "error"));
}

static void
nc_udp(json_t *nc, const json_t *check)
{
	char	 note[600], silent[500];
	size_t	 i, n = 0, ok = 0;
	const json_t *s;

	if (check == NULL) {
		nc_set(nc, "udp", -1, "unknown: stund did not run the check "
		    "(stun.check failed)");
		return;
	}
	json_array_foreach(json_object_get(check, "servers"), i, s) {
		n++;
		ok += json_is_true(json_object_get(s, "ok"));
	}
	nc_silent(check, silent, sizeof(silent));
	if (n == 0)
		nc_set(nc, "udp", -1, "unknown: no STUN server configured; "
		    NC_ADD_SERVER);
	else if (ok > 0) {
		snprintf(note, sizeof(note), "%zu of %zu STUN servers answered"
		    "%s%s", ok, n, silent[0] ? "; no answer from " : "",
		    silent);
		nc_set(nc, "udp", 1, note);
	} else {
		snprintf(note, sizeof(note), "no answer from %s", silent);
		nc_set(nc, "udp", 0, note);
	}
}

static void
nc_family(json_t *nc, const json_t *check, const char *key, int v)
{
	const json_t	*f = json_object_get(check, key);
	json_t		*o = json_object();
	char		 note[600];
	json_int_t	 servers, answered;

	servers = json_integer_value(json_object_get(f, "servers"));
	answered = json_integer_value(json_object_get(f, "answered"));
	if (f == NULL) {
		json_object_set_new(o, "reachable", json_null());
		snprintf(note, sizeof(note), "unknown: stund did not run the "
		    "check");
	} else if (servers == 0) {
		json_object_set_new(o, "reachable", json_null());
		snprintf(note, sizeof(note), "not tested: no IPv%d STUN server "
		    "in stund.servers; add one (%s)", v, v == 6 ?
		    "an [IPv6]:port literal, or a name whose first address is "
		    "IPv6" : "IPv4:port, or a name with an A record");
	} else if (answered > 0) {
		json_object_set_new(o, "reachable", json_true());
		json_object_set_new(o, "public", json_string(nc_str(f,
		    "public")));
		snprintf(note, sizeof(note), "public %s (%lld of %lld IPv%d "
		    "servers answered)", nc_str(f, "public"), (long long)answered,
		    (long long)servers, v);
	} else if (json_integer_value(json_object_get(f, "asked")) == 0) {
		json_object_set_new(o, "reachable", json_false());
		snprintf(note, sizeof(note), "no IPv%d socket could be opened "
		    "(is IPv%d off on this host?)", v, v);
	} else {
		json_object_set_new(o, "reachable", json_false());
		snprintf(note, sizeof(note), "no answer from %s",
		    nc_str(f, "no_answer_from"));
	}
	json_object_set_new(o, "note", json_string(note));
	json_object_set_new(nc, key, o);
}

static void
nc_mapping(json_t *nc, const json_t *nat, const json_t *check)
{
	const char	*m = nc_str(nat, "mapping");
	const json_t	*v = json_object_get(json_object_get(check, "ipv4"),
			    "mapping_varies");
	char		 note[400];

	if (!strcmp(m, "endpoint-independent")) {
		snprintf(note, sizeof(note), "endpoint-independent mapping: "
		    "one public endpoint for every destination (%s)",
		    !strcmp(nc_str(nat, "method"), "rfc5780") ?
		    "RFC 5780 tests" : "servers on different IPs agree");
		nc_set(nc, "mapping_varies", 0, note);
	} else if (m[0] != '\0' && strcmp(m, "unknown") != 0) {
		snprintf(note, sizeof(note), "%s mapping: every destination "
		    "gets its own public port", m);
		nc_set(nc, "mapping_varies", 1, note);
	} else if (json_is_boolean(v))
		nc_set(nc, "mapping_varies", json_is_true(v), json_is_true(v) ?
		    "STUN servers on different addresses saw different "
		    "mappings of one socket" : "STUN servers on different "
		    "addresses saw the same mapping of one socket");
	else
		nc_set(nc, "mapping_varies", -1, "unknown: it takes one STUN "
		    "server with RFC 5780 (OTHER-ADDRESS) or two on different "
		    "IPs answering; " NC_ADD_SERVER);
}

static void
nc_hairpin(json_t *nc, const json_t *nat)
{
	const json_t	*h = json_object_get(nat, "hairpin");
	char		 note[300];

	if (json_is_true(h)) {
		snprintf(note, sizeof(note), "a STUN request to our own public "
		    "address %s came back in %.2f ms", nc_str(nat, "public"),
		    json_number_value(json_object_get(nat, "hairpin_ms")));
		nc_set(nc, "hairpin", 1, note);
	} else if (json_is_false(h))
		nc_set(nc, "hairpin", 0, nc_str(nat, "hairpin_note"));
	else {
		snprintf(note, sizeof(note), "unknown: %s", nat == NULL ?
		    "the NAT tests failed" : nc_str(nat, "hairpin_note")[0] ?
		    nc_str(nat, "hairpin_note") : "not measured (the NAT tests "
		    "did not run it)");
		nc_set(nc, "hairpin", -1, note);
	}
}

/* The verdicts from nat.get (NULL when it failed) and stun.check (NULL). */
json_t *
network_check(const json_t *nat, const json_t *check)
{
	json_t *nc = json_object();

	nc_udp(nc, check);
	nc_family(nc, check, "ipv4", 4);
	nc_family(nc, check, "ipv6", 6);
	nc_mapping(nc, nat, check);
	json_object_set_new(nc, "filtering", json_string(nat != NULL &&
	    nc_str(nat, "filtering")[0] ? nc_str(nat, "filtering") :
	    "unknown"));
	nc_hairpin(nc, nat);
	json_object_set_new(nc, "stun", check != NULL ?
	    json_deep_copy(json_object_get(check, "servers")) : json_array());
	json_object_set_new(nc, "stun_duration_s", check != NULL ?
	    json_deep_copy(json_object_get(check, "duration_s")) :
	    json_null());
	return nc;
}

/* "Label:  yes: note", or "Label:  note" when the verdict is unknown
 * (the note then starts with "unknown:" or "not tested:") */
static void
nc_line(const char *label, const json_t *v, const char *note)
{
	printf("%-18s%s%s%s\n", label, json_is_true(v) ? "yes" :
	    json_is_false(v) ? "no" : "", json_is_boolean(v) && note[0] ?
	    ": " : "", note);
}

/* The verdicts, one line each: part 0 the reachability ones (first), 1
 * the NAT ones (after the NAT type) */
void
network_check_print(const json_t *nc, int part)
{
	const json_t *f;

	if (part == 0) {
		nc_line("UDP:", json_object_get(nc, "udp"), nc_str(nc,
		    "udp_note"));
		f = json_object_get(nc, "ipv4");
		nc_line("IPv4:", json_object_get(f, "reachable"),
		    nc_str(f, "note"));
		f = json_object_get(nc, "ipv6");
		nc_line("IPv6:", json_object_get(f, "reachable"),
		    nc_str(f, "note"));
		return;
	}
	nc_line("Mapping varies:", json_object_get(nc, "mapping_varies"),
	    nc_str(nc, "mapping_varies_note"));
	nc_line("Hairpin:", json_object_get(nc, "hairpin"), nc_str(nc,
	    "hairpin_note"));
}

/* STUN servers, round-trip time of each from stun.check */
void
network_check_print_servers(const json_t *nc)
{
	const json_t	*s;
	size_t		 i;

	if (json_is_string(json_object_get(nc, "stun_error"))) {
		printf("STUN servers:     unknown: stun.check failed: %s\n",
		    nc_str(nc, "stun_error"));
		return;
	}
	printf("STUN servers:     (all asked at once, each waited for: %.1f s)"
	    "\n", json_number_value(json_object_get(nc, "stun_duration_s")));
	json_array_foreach(json_object_get(nc, "stun"), i, s) {
		if (json_is_true(json_object_get(s, "ok")))
			printf("  %-32s ok      %7.1f ms  sees %s\n",
			    nc_str(s, "server"), json_number_value(
			    json_object_get(s, "rtt_ms")), nc_str(s, "mapped"));
		else
			printf("  %-32s failed  %s\n", nc_str(s, "server"),
			    nc_str(s, "error"));
	}
}
