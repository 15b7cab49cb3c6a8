/*
 * What relayd tells about itself over HTTP: GET /health (JSON, jansson) and
 * GET /metrics (Prometheus text exposition format 0.0.4). status.get in
 * control.c reports the same counters.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relayd/relayd.h"

#define ST(f)	offsetof(struct relayd_stats, f)

/*
 * relayd's counters, defined once: the field, status.get's key (NULL: only
 * in /metrics), the Prometheus family, its reason label, the help text.
 * Rows of one family follow each other. status.get (control.c) and
 * /metrics below are written from this table; auth_fail[] and disc[] are
 * the families relayd_auth_failures_total and relayd_disconnects_total,
 * one sample per name in metrics_auth[] and metrics_reasons[].
 */
const struct metrics_counter metrics_counters[] = {
	{ ST(accepted), "accepted", "relayd_connections_accepted_total",
	    NULL, "TCP connections accepted." },
	{ ST(upgrades), "upgrades", "relayd_upgrades_total", NULL,
	    "WebSocket upgrades accepted." },
	{ ST(http_requests), "http_requests", "relayd_http_requests_total",
	    NULL, "Complete HTTP requests." },
	{ ST(http_errors), "http_errors", "relayd_http_errors_total", NULL,
	    "HTTP requests answered with 4xx/5xx." },
	{ ST(refused_limit), "refused_limit", "relayd_refused_total", NULL,
	    "Connections or joins refused by a limit." },
	{ ST(frames_in), "frames_in", "relayd_frames_received_total", NULL,
	    "Messages received from clients." },
	{ ST(frames_out), "frames_out", "relayd_frames_relayed_total", NULL,
	    "Messages queued to other clients." },
	{ ST(bytes_in), "bytes_in", "relayd_bytes_received_total", NULL,
	    "Payload bytes received from clients." },
	{ ST(bytes_out), "bytes_out", "relayd_bytes_relayed_total", NULL,
	    "Payload bytes queued to other clients." },
	{ ST(drops_queue), "drops_queue", "relayd_drops_total", "queue_full",
	    "Messages not forwarded." },
	{ ST(drops_forged), "drops_forged", "relayd_drops_total",
	    "forged_control", "Messages not forwarded." },
	{ ST(drops_alone), "drops_no_peer", "relayd_drops_total", "no_peer",
	    "Messages not forwarded." },
	{ ST(refused_addr), NULL, "relayd_refused_address_total", NULL,
	    "Connections closed at accept: their address group had "
	    "max_clients_per_ip." },
	{ ST(ratelimited), NULL, "relayd_ratelimited_total", NULL,
	    "Times an address group's reads were paused for "
	    "max_bytes_per_ip." },
	{ ST(proxied), NULL, "relayd_proxy_headers_total", NULL,
	    "PROXY v2 headers taken from proxy_protocol_from (their client "
	    "address used); refused ones are disconnects with reason "
	    "proxy." },
};
const size_t metrics_ncounters =
    sizeof(metrics_counters) / sizeof(metrics_counters[0]);

uint64_t
metrics_value(const struct relayd_stats *st, const struct metrics_counter *m)
{
	return *(const uint64_t *)(const void *)((const char *)st + m->off);
}

static const char *const metrics_auth[AUTH_MAX] = {
	"missing", "malformed", "bad_mac", "expired", "unknown_key",
	"wrong_prefix", "origin"
};

static const char *const metrics_reasons[REASON_MAX] = {
	"client_close", "eof", "protocol", "too_big", "idle", "slow",
	"kicked", "shutdown", "handshake_timeout", "http", "tls", "error",
	"proxy",
};

const char *
metrics_reason_str(enum relay_reason r)
{
	return r < REASON_MAX ? metrics_reasons[r] : "unknown";
}

const char *
metrics_auth_str(enum relay_auth_fail a)
{
	return a < AUTH_MAX ? metrics_auth[a] : "unknown";
}

char *
metrics_health(struct relayd *rd, size_t *len)
{
	json_t	*o;
	char	*s;
	double	 paused_s;
	unsigned paused = iplimit_paused(rd->ips, &paused_s);

	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, "
	    "s:b}",
	    "status", rd->stopping ? "stopping" : "ok",
	    "version", RELAYD_VERSION,
	    "uptime_s", (json_int_t)daemon_uptime(&rd->dctx),
	    "sessions", (json_int_t)session_count(rd->sessions),
	    "clients", (json_int_t)rd->nws,
	    "connections", (json_int_t)rd->nclients,
	    "bytes_relayed", (json_int_t)rd->st.bytes_out,
	    "frames_relayed", (json_int_t)rd->st.frames_out,
	    "ratelimited_groups", (json_int_t)paused,
	    "tls", rd->tls != NULL,
	    "open", rd->conf.open);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return NULL;
	/* jansson's allocator is malloc: the caller frees with free() */
	*len = strlen(s);
	return s;
}


static void
metric(FILE *f, const char *name, const char *type, const char *help,
    double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
	    type, name, v);
}

char *
metrics_prometheus(struct relayd *rd, size_t *len)
{
	const struct relayd_stats *st = &rd->st;
	const struct metrics_counter *m;
	char	*s = NULL;
	FILE	*f;
	int	 i;
	double	 paused_s;
	unsigned paused = iplimit_paused(rd->ips, &paused_s);

	if ((f = open_memstream(&s, len)) == NULL)
		return NULL;
	metric(f, "relayd_uptime_seconds", "gauge", "Seconds since start.",
	    daemon_uptime(&rd->dctx));
	metric(f, "relayd_sessions", "gauge", "Sessions with clients.",
	    (double)session_count(rd->sessions));
	metric(f, "relayd_clients", "gauge", "Upgraded WebSocket clients.",
	    rd->nws);
	metric(f, "relayd_connections", "gauge",
	    "TCP connections, handshaking ones included.", rd->nclients);
	for (m = metrics_counters; m < metrics_counters + metrics_ncounters;
	    m++) {
		if (m == metrics_counters || strcmp(m->family, m[-1].family))
			fprintf(f, "# HELP %s %s\n# TYPE %s counter\n",
			    m->family, m->help, m->family);
		if (m->reason != NULL)
			fprintf(f, "%s{reason=\"%s\"} %llu\n", m->family,
			    m->reason, (unsigned long long)metrics_value(st, m));
		else
			fprintf(f, "%s %llu\n", m->family,
			    (unsigned long long)metrics_value(st, m));
	}
	metric(f, "relayd_address_groups", "gauge",
	    "Address groups (ipv4_prefix, ipv6_prefix) with connections, or "
	    "refilling.", (double)iplimit_groups(rd->ips));
	metric(f, "relayd_ratelimited_groups", "gauge",
	    "Address groups over max_bytes_per_ip now (reads paused).",
	    paused);
	metric(f, "relayd_ratelimited_seconds_total", "counter",
	    "Seconds address groups spent paused, summed over groups.",
	    paused_s);
	fprintf(f, "# HELP relayd_auth_failures_total Refused upgrades: "
	    "tokens, and web origins not in origins.\n"
	    "# TYPE relayd_auth_failures_total counter\n");
	for (i = 0; i < AUTH_MAX; i++)
		fprintf(f, "relayd_auth_failures_total{reason=\"%s\"} %llu\n",
		    metrics_auth_str(i), (unsigned long long)st->auth_fail[i]);
	fprintf(f, "# HELP relayd_disconnects_total Closed connections.\n"
	    "# TYPE relayd_disconnects_total counter\n");
	for (i = 0; i < REASON_MAX; i++)
		fprintf(f, "relayd_disconnects_total{reason=\"%s\"} %llu\n",
		    metrics_reason_str(i), (unsigned long long)st->disc[i]);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}
