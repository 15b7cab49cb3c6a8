/*
 * common/promtext.c and promfile.c: status.get -> Prometheus text. Names,
 * types, units, labels and escaping by the rules in promtext.h; no family
 * twice; every output also passes a strict reading of the exposition
 * format (families contiguous, # HELP and # TYPE before their samples,
 * valid names and values). The metrics file: written whole, mode 0644,
 * removed by promfile_fini.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>
#include <msgpack.h>

#include "common/mpack.h"
#include "common/promfile.h"
#include "common/promtext.h"
#include "suites.h"

static msgpack_sbuffer	sb;
static msgpack_packer	pk;
static msgpack_unpacked	up;

static void
setup(void)
{
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_unpacked_init(&up);
}

static void
teardown(void)
{
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
}

/* what was packed since the last call, as one object */
static const msgpack_object *
packed(void)
{
	size_t off = 0;

	msgpack_unpacked_destroy(&up);
	msgpack_unpacked_init(&up);
	ck_assert_int_eq(msgpack_unpack_next(&up, sb.data, sb.size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, sb.size);
	msgpack_sbuffer_clear(&sb);
	return &up.data;
}

/* A status.get like stund's and punchd's, with the awkward cases. */
static void
pack_status(msgpack_packer *p, void *arg)
{
	(void)arg;
	msgpack_pack_map(p, 12);
	mpack_kv_str(p, "daemon", "testd");
	mpack_kv_str(p, "version", "a\"b\\c\nd");
	mpack_kv_str(p, "public", NULL);
	mpack_kv_double(p, "uptime_s", 12.5);
	mpack_kv_double(p, "rtt_ms", 250);
	mpack_kv_int(p, "offset", -3);
	mpack_kv_bool(p, "ready", 1);
	mpack_key(p, "candidates");
	msgpack_pack_array(p, 3);
	msgpack_pack_nil(p);
	msgpack_pack_nil(p);
	msgpack_pack_nil(p);
	mpack_key(p, "server");
	msgpack_pack_map(p, 2);
	mpack_kv_str(p, "primary", "0.0.0.0:3478");
	mpack_kv_int(p, "sockets", 2);
	mpack_kv_int(p, "odd-key.x", 7);
	mpack_kv_int(p, "odd_key.x", 8);	/* the same name: dropped */
	mpack_key(p, "counters");
	msgpack_pack_map(p, 6);
	mpack_kv_uint(p, "sent", UINT64_MAX);
	mpack_kv_uint(p, "ipc_clients", 4);
	mpack_kv_uint(p, "odd_key_x", 9);	/* odd_key_x_total: kept */
	mpack_kv_double(p, "nan", NAN);
	mpack_kv_uint(p, "ready", 1);		/* ready_total: not a dup */
	mpack_kv_double(p, "inf", INFINITY);
}

/*
 * A strict reader of the text format (0.0.4): comment lines are # HELP
 * and # TYPE only, each family has both exactly once before its first
 * sample, its samples are contiguous, a family never comes back, names
 * and label names are valid, label values are quoted and escaped, values
 * are floats, NaN or +-Inf. Returns the number of samples, -1 on error.
 */
static int
valid_text(const char *text)
{
	char	*copy, *line = "(no newline at the end)", *save, *p, *q;
	char	 fam[128] = "", seen[4096] = " ";
	char	 name[128], key[160];
	int	 n = 0, help = 0, type = 0;

	ck_assert_ptr_nonnull(copy = strdup(text));
	if (*text != '\0' && text[strlen(text) - 1] != '\n')
		goto bad;
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7) ||
		    !strncmp(line, "# TYPE ", 7)) {
			p = line + 7;
			q = strchr(p, ' ');
			if (q == NULL || q - p >= (int)sizeof(name))
				goto bad;
			snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
			if (!promtext_valid_name(name))
				goto bad;
			if (strcmp(name, fam) != 0) {
				snprintf(key, sizeof(key), " %s ", name);
				if (strstr(seen, key) != NULL)
					goto bad;	/* family again */
				strlcat(seen, key + 1, sizeof(seen));
				strlcpy(fam, name, sizeof(fam));
				help = type = 0;
			}
			if (line[2] == 'H' && help++)
				goto bad;
			if (line[2] == 'T') {
				if (type++ || (strcmp(q + 1, "counter") &&
				    strcmp(q + 1, "gauge")))
					goto bad;
			}
			continue;
		}
		if (line[0] == '#')
			goto bad;
		/* sample: name{labels} value */
		for (p = line; *p != '\0' && *p != '{' && *p != ' '; p++)
			;
		snprintf(name, sizeof(name), "%.*s", (int)(p - line), line);
		if (strcmp(name, fam) != 0 || !help || !type)
			goto bad;
		if (*p == '{') {
			p++;
			while (*p != '}') {
				for (q = p; *q != '=' && *q != '\0'; q++)
					;
				snprintf(key, sizeof(key), "%.*s",
				    (int)(q - p), p);
				if (*q != '=' || q[1] != '"' ||
				    !promtext_valid_name(key) ||
				    strchr(key, ':') != NULL)
					goto bad;
				for (q += 2; *q != '"'; q++) {
					if (*q == '\0')
						goto bad;
					if (*q == '\\' && q[1] != '\\' &&
					    q[1] != '"' && q[1] != 'n')
						goto bad;
					if (*q == '\\')
						q++;
				}
				p = q + 1;
				if (*p == ',')
					p++;
				else if (*p != '}')
					goto bad;
			}
			p++;
		}
		if (*p++ != ' ')
			goto bad;
		if (strcmp(p, "NaN") && strcmp(p, "+Inf") &&
		    strcmp(p, "-Inf")) {
			strtod(p, &q);
			if (q == p || *q != '\0')
				goto bad;
		}
		n++;
	}
	free(copy);
	return n;
bad:
	fprintf(stderr, "invalid exposition line: %s\n", line);
	free(copy);
	return -1;
}

static int
has_line(const struct promtext *pt, const char *line)
{
	char		 want[512];
	const char	*p;

	snprintf(want, sizeof(want), "%s\n", line);
	for (p = pt->buf; (p = strstr(p, want)) != NULL; p++)
		if (p == pt->buf || p[-1] == '\n')
			return 1;
	return 0;
}

/* the reader above is not vacuous */
START_TEST(test_reader)
{
	const char *h = "# HELP a x\n# TYPE a gauge\n";
	char t[256];

	snprintf(t, sizeof(t), "%sa 1\na{l=\"v\\\"\"} 2\n", h);
	ck_assert_int_eq(valid_text(t), 2);
	ck_assert_int_eq(valid_text("a 1\n"), -1);	/* no HELP/TYPE */
	ck_assert_int_eq(valid_text("# TYPE a gauge\na 1\n"), -1);
	snprintf(t, sizeof(t), "%sa 1", h);		/* no newline */
	ck_assert_int_eq(valid_text(t), -1);
	snprintf(t, sizeof(t), "%sa one\n", h);
	ck_assert_int_eq(valid_text(t), -1);
	snprintf(t, sizeof(t), "%sa{l=v} 1\n", h);
	ck_assert_int_eq(valid_text(t), -1);
	snprintf(t, sizeof(t), "%sa{l=\"\\x\"} 1\n", h);	/* bad escape */
	ck_assert_int_eq(valid_text(t), -1);
	snprintf(t, sizeof(t), "%sb 1\n", h);		/* another name */
	ck_assert_int_eq(valid_text(t), -1);
	snprintf(t, sizeof(t), "%sa 1\n# HELP b x\n# TYPE b gauge\nb 1\n"
	    "%sa 2\n", h, h);				/* family again */
	ck_assert_int_eq(valid_text(t), -1);
	snprintf(t, sizeof(t), "# HELP a x\n# TYPE a untyped\na 1\n");
	ck_assert_int_eq(valid_text(t), -1);
	ck_assert_int_eq(valid_text("# just a comment\n"), -1);
}
END_TEST

START_TEST(test_status_rules)
{
	struct promtext pt;

	pack_status(&pk, NULL);
	promtext_init(&pt);
	ck_assert_int_eq(promtext_status(&pt, "testd", packed()), 0);
	ck_assert_int_gt(valid_text(pt.buf), 0);
	/* units: _s and _ms become _seconds, ms divided by 1000 */
	ck_assert(has_line(&pt, "# TYPE testd_uptime_seconds gauge"));
	ck_assert(has_line(&pt, "testd_uptime_seconds 12.5"));
	ck_assert(has_line(&pt, "testd_rtt_seconds 0.25"));
	ck_assert(has_line(&pt, "testd_offset -3"));
	ck_assert(has_line(&pt, "testd_ready 1"));
	/* arrays: their length */
	ck_assert(has_line(&pt, "testd_candidates 3"));
	/* nested maps: path in the name, strings into _info */
	ck_assert(has_line(&pt, "testd_server_sockets 2"));
	ck_assert(has_line(&pt,
	    "testd_server_info{primary=\"0.0.0.0:3478\"} 1"));
	/* counters: "counters" left out, _total, exact uint64 */
	ck_assert(has_line(&pt, "# TYPE testd_sent_total counter"));
	ck_assert(has_line(&pt, "testd_sent_total 18446744073709551615"));
	ck_assert(has_line(&pt, "testd_ready_total 1"));
	/* the gauge table */
	ck_assert(has_line(&pt, "# TYPE testd_ipc_clients gauge"));
	ck_assert(has_line(&pt, "testd_ipc_clients 4"));
	ck_assert(has_line(&pt, "testd_nan_total NaN"));
	ck_assert(has_line(&pt, "testd_inf_total +Inf"));
	/* sanitized, and the second leaf with that name dropped */
	ck_assert(has_line(&pt, "testd_odd_key_x 7"));
	ck_assert(!has_line(&pt, "testd_odd_key_x 8"));
	ck_assert(has_line(&pt, "testd_odd_key_x_total 9"));
	/* strings: labels, escaped; nil left out */
	ck_assert(has_line(&pt, "testd_info{daemon=\"testd\","
	    "version=\"a\\\"b\\\\c\\nd\"} 1"));
	ck_assert(strstr(pt.buf, "public") == NULL);
	ck_assert_int_eq(pt.oom, 0);
	promtext_free(&pt);
}
END_TEST

START_TEST(test_no_duplicates)
{
	struct promtext	pt;
	const char	*p;
	int		n;

	promtext_init(&pt);
	/* the same reply twice: the second adds nothing */
	pack_status(&pk, NULL);
	ck_assert_int_eq(promtext_status(&pt, "testd", packed()), 0);
	n = valid_text(pt.buf);
	pack_status(&pk, NULL);
	ck_assert_int_eq(promtext_status(&pt, "testd", packed()), 0);
	ck_assert_int_eq(valid_text(pt.buf), n);
	/* a name that would clash: counters.x_total and top-level x_total */
	msgpack_pack_map(&pk, 2);
	mpack_kv_int(&pk, "x_total", 1);
	mpack_key(&pk, "counters");
	msgpack_pack_map(&pk, 1);
	mpack_kv_int(&pk, "x", 2);
	ck_assert_int_eq(promtext_status(&pt, "d2", packed()), 0);
	ck_assert(has_line(&pt, "d2_x_total 1"));
	ck_assert(!has_line(&pt, "d2_x_total 2"));
	ck_assert_int_gt(valid_text(pt.buf), 0);
	/* only one # TYPE per family in all of it */
	p = strstr(pt.buf, "# TYPE d2_x_total ");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(strstr(p + 1, "# TYPE d2_x_total "));
	/* not a map */
	msgpack_pack_array(&pk, 0);
	ck_assert_int_eq(promtext_status(&pt, "d3", packed()), -1);
	promtext_free(&pt);
}
END_TEST

static void
pack_peer(const char *id, const char *name, double rtt, int has_rtt,
    uint64_t rx)
{
	msgpack_pack_map(&pk, 6);
	mpack_kv_str(&pk, "id", id);
	mpack_kv_str(&pk, "name", name);
	mpack_kv_str(&pk, "state", "direct");
	mpack_key(&pk, "rtt_ms");
	if (has_rtt)
		msgpack_pack_double(&pk, rtt);
	else
		msgpack_pack_nil(&pk);
	mpack_kv_uint(&pk, "rx_packets", rx);
	mpack_kv_bool(&pk, "controlling", 1);
}

START_TEST(test_peers)
{
	struct promtext	 pt;
	const char	*a, *b;

	msgpack_pack_array(&pk, 4);
	pack_peer("00112233aabbccdd", "bob", 1.5, 1, 10);
	pack_peer(NULL, "carol \"c\"", 0, 0, 20);	/* id not known yet */
	pack_peer(NULL, NULL, 3, 1, 30);		/* no label: left out */
	pack_peer("ffeeddccbbaa9988", NULL, 2, 1, 40);
	promtext_init(&pt);
	ck_assert_int_eq(promtext_peers(&pt, "punchd", packed()), 0);
	ck_assert_int_gt(valid_text(pt.buf), 0);
	ck_assert(has_line(&pt, "# TYPE punchd_peer_rtt_seconds gauge"));
	ck_assert(has_line(&pt,
	    "punchd_peer_rtt_seconds{peer=\"00112233aabbccdd\"} 0.0015"));
	ck_assert(has_line(&pt,
	    "punchd_peer_rtt_seconds{peer=\"ffeeddccbbaa9988\"} 0.002"));
	/* nil: no sample for carol's RTT, her counter is there */
	ck_assert(strstr(pt.buf, "punchd_peer_rtt_seconds{peer=\"carol") ==
	    NULL);
	ck_assert(has_line(&pt, "# TYPE punchd_peer_rx_packets_total counter"));
	ck_assert(has_line(&pt,
	    "punchd_peer_rx_packets_total{peer=\"carol \\\"c\\\"\"} 20"));
	ck_assert(strstr(pt.buf, "} 30\n") == NULL);
	ck_assert(has_line(&pt,
	    "punchd_peer_controlling{peer=\"00112233aabbccdd\"} 1"));
	/* strings: the id is the peer label, not repeated */
	ck_assert(has_line(&pt, "punchd_peer_info{peer=\"00112233aabbccdd\","
	    "name=\"bob\",state=\"direct\"} 1"));
	ck_assert(has_line(&pt, "punchd_peer_info{peer=\"ffeeddccbbaa9988\","
	    "state=\"direct\"} 1"));
	/* field-major: all RTTs together, then the next family */
	a = strstr(pt.buf, "punchd_peer_rtt_seconds{peer=\"ffee");
	b = strstr(pt.buf, "# HELP punchd_peer_rx_packets_total");
	ck_assert(a != NULL && b != NULL && a < b);
	promtext_free(&pt);

	/* no peers: nothing at all, still valid */
	msgpack_pack_array(&pk, 0);
	promtext_init(&pt);
	ck_assert_int_eq(promtext_peers(&pt, "punchd", packed()), 0);
	ck_assert_uint_eq(pt.len, 0);
	msgpack_pack_map(&pk, 0);
	ck_assert_int_eq(promtext_peers(&pt, "punchd", packed()), -1);
	promtext_free(&pt);
}
END_TEST

START_TEST(test_sample)
{
	struct promtext pt;

	promtext_init(&pt);
	ck_assert_int_eq(promtext_sample(&pt, "up", "gauge", "h", "daemon",
	    "a", 1), 0);
	ck_assert_int_eq(promtext_sample(&pt, "up", "gauge", "h", "daemon",
	    "b", 0), 0);
	ck_assert_int_eq(promtext_sample(&pt, "other", "gauge", "h\\x\ny",
	    NULL, NULL, 0.5), 0);
	/* "up" again after another family: refused */
	ck_assert_int_eq(promtext_sample(&pt, "up", "gauge", "h", "daemon",
	    "c", 1), -1);
	ck_assert_int_eq(promtext_sample(&pt, "9bad", "gauge", "h", NULL,
	    NULL, 1), -1);
	ck_assert_int_eq(promtext_sample(&pt, "ok", "gauge", "h", "a:b",
	    "x", 1), -1);
	ck_assert_int_eq(valid_text(pt.buf), 3);
	ck_assert(has_line(&pt, "up{daemon=\"b\"} 0"));
	ck_assert(has_line(&pt, "# HELP other h\\\\x\\ny"));
	ck_assert_ptr_null(strstr(pt.buf, "up{daemon=\"c\"}"));
	promtext_free(&pt);
	ck_assert(promtext_valid_name("a:b_c9"));
	ck_assert(!promtext_valid_name("a-b"));
	ck_assert(!promtext_valid_name(""));
}
END_TEST

START_TEST(test_promfile)
{
	struct promfile	 pf;
	struct stat	 st;
	char		 dir[] = "/tmp/check_promtext.XXXXXX", path[128];
	char		 buf[8192];
	FILE		*f;
	size_t		 n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/testd.prom", dir);
	promfile_init(&pf, EV_DEFAULT, "testd", pack_status, NULL, NULL);
	ck_assert_int_eq(promfile_write(&pf), 0);	/* off: nothing */
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(promfile_set(&pf, path, 1000), 0);
	ck_assert_int_eq(promfile_write(&pf), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ck_assert_int_gt(valid_text(buf), 10);
	ck_assert_ptr_nonnull(strstr(buf, "\ntestd_uptime_seconds 12.5\n"));
	ck_assert_uint_eq(pf.writes, 1);
	/* a directory that is not there: -1, the next good path works */
	ck_assert_int_eq(promfile_set(&pf, "/nonexistent-dir/x.prom", 1000),
	    0);
	ck_assert_int_eq(access(path, F_OK), -1);	/* old file removed */
	ck_assert_int_eq(promfile_write(&pf), -1);
	ck_assert_int_eq(pf.failing, 1);
	ck_assert_int_eq(promfile_set(&pf, path, 1000), 0);
	ck_assert_int_eq(promfile_write(&pf), 0);
	ck_assert_int_eq(pf.failing, 0);
	/* stopping removes it */
	promfile_fini(&pf);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *
promtext_suite(void)
{
	Suite	*s = suite_create("promtext");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reader);
	tcase_add_test(tc, test_status_rules);
	tcase_add_test(tc, test_no_duplicates);
	tcase_add_test(tc, test_peers);
	tcase_add_test(tc, test_sample);
	tcase_add_test(tc, test_promfile);
	suite_add_tcase(s, tc);
	return s;
}
