/*
 * What relayd tells about itself over HTTP: GET /health (JSON, jansson) and
 * GET /metrics (Prometheus text exposition format 0.0.4). status.get in
 * control.c reports the same counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relayd/relayd.h"

static const char *const metrics_auth[AUTH_MAX] = {
	"missing", "malformed", "bad_mac", "expired", "unknown_key",
	"wrong_prefix"
};

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
	metric(f, "relayd_connections_accepted_total", "counter",
	    "TCP connections accepted.", (double)st->accepted);
	metric(f, "relayd_upgrades_total", "counter",
	    "WebSocket upgrades accepted.", (double)st->upgrades);
	metric(f, "relayd_http_requests_total", "counter",
	    "Complete HTTP requests.", (double)st->http_requests);
	metric(f, "relayd_http_errors_total", "counter",
	    "HTTP requests answered with 4xx/5xx.", (double)st->http_errors);
	metric(f, "relayd_refused_total", "counter",
	    "Connections or joins refused by a limit.",
	    (double)st->refused_limit);
	metric(f, "relayd_frames_received_total", "counter",
	    "Messages received from clients.", (double)st->frames_in);
	metric(f, "relayd_frames_relayed_total", "counter",
	    "Messages queued to other clients.", (double)st->frames_out);
	metric(f, "relayd_bytes_received_total", "counter",
	    "Payload bytes received from clients.", (double)st->bytes_in);
	metric(f, "relayd_bytes_relayed_total", "counter",
	    "Payload bytes queued to other clients.", (double)st->bytes_out);
	metric(f, "relayd_refused_address_total", "counter",
	    "Connections closed at accept: their address group had "
	    "max_clients_per_ip.", (double)st->refused_addr);
	metric(f, "relayd_address_groups", "gauge",
	    "Address groups (ipv4_prefix, ipv6_prefix) with connections, or "
	    "refilling.", (double)iplimit_groups(rd->ips));
	metric(f, "relayd_ratelimited_groups", "gauge",
	    "Address groups over max_bytes_per_ip now (reads paused).",
	    paused);
	metric(f, "relayd_ratelimited_total", "counter",
	    "Times an address group's reads were paused for max_bytes_per_ip.",
	    (double)st->ratelimited);
	metric(f, "relayd_ratelimited_seconds_total", "counter",
	    "Seconds address groups spent paused, summed over groups.",
	    paused_s);
	fprintf(f, "# HELP relayd_drops_total Messages not forwarded.\n"
	    "# TYPE relayd_drops_total counter\n"
	    "relayd_drops_total{reason=\"queue_full\"} %llu\n"
	    "relayd_drops_total{reason=\"forged_control\"} %llu\n"
	    "relayd_drops_total{reason=\"no_peer\"} %llu\n",
	    (unsigned long long)st->drops_queue,
	    (unsigned long long)st->drops_forged,
	    (unsigned long long)st->drops_alone);
	fprintf(f, "# HELP relayd_auth_failures_total Refused tokens.\n"
	    "# TYPE relayd_auth_failures_total counter\n");
	for (i = 0; i < AUTH_MAX; i++)
		fprintf(f, "relayd_auth_failures_total{reason=\"%s\"} %llu\n",
		    metrics_auth_str(i), (unsigned long long)st->auth_fail[i]);
	fprintf(f, "# HELP relayd_disconnects_total Closed connections.\n"
	    "# TYPE relayd_disconnects_total counter\n");
	for (i = 0; i < REASON_MAX; i++)
		fprintf(f, "relayd_disconnects_total{reason=\"%s\"} %llu\n",
		    server_reason_str(i), (unsigned long long)st->disc[i]);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}
