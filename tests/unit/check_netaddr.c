#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/netaddr.h"
#include "common/netroute.h"
#include "suites.h"

START_TEST(test_split)
{
	char	host[64];
	int	port;

	ck_assert_int_eq(netaddr_split("1.2.3.4:5", 0, host, sizeof(host),
	    &port), 0);
	ck_assert_str_eq(host, "1.2.3.4");
	ck_assert_int_eq(port, 5);
	ck_assert_int_eq(netaddr_split("[2001:db8::1]:3478", 0, host,
	    sizeof(host), &port), 0);
	ck_assert_str_eq(host, "2001:db8::1");
	ck_assert_int_eq(port, 3478);
	ck_assert_int_eq(netaddr_split("stun.example.org", 19302, host,
	    sizeof(host), &port), 0);
	ck_assert_int_eq(port, 19302);
	ck_assert_int_eq(netaddr_split("2001:db8::1", 7, host, sizeof(host),
	    &port), 0);
	ck_assert_str_eq(host, "2001:db8::1");
	ck_assert_int_eq(port, 7);
	/* hostile */
	ck_assert_int_eq(netaddr_split("host", 0, host, sizeof(host), &port), -1);
	ck_assert_int_eq(netaddr_split("h:0", 0, host, sizeof(host), &port), -1);
	ck_assert_int_eq(netaddr_split("h:65536", 0, host, sizeof(host),
	    &port), -1);
	ck_assert_int_eq(netaddr_split("h:12x", 0, host, sizeof(host), &port),
	    -1);
	ck_assert_int_eq(netaddr_split(":80", 0, host, sizeof(host), &port), -1);
	ck_assert_int_eq(netaddr_split("[::1", 0, host, sizeof(host), &port), -1);
	ck_assert_int_eq(netaddr_split("[::1]x", 0, host, sizeof(host), &port),
	    -1);
	ck_assert_int_eq(netaddr_split("h:", 0, host, sizeof(host), &port), -1);
	ck_assert_int_eq(netaddr_split("averyveryveryveryveryverylonghostname"
	    "thatdoesnotfit.example:1", 0, host, 16, &port), -1);
}
END_TEST

START_TEST(test_parse_format_compare)
{
	struct sockaddr_storage	a, b;
	char			buf[NETADDR_STRLEN];

	ck_assert_int_eq(netaddr_parse("192.0.2.1:32853", 0, &a), 0);
	ck_assert_int_eq(a.ss_family, AF_INET);
	ck_assert_str_eq(netaddr_str((struct sockaddr *)&a, buf, sizeof(buf)),
	    "192.0.2.1:32853");
	ck_assert_int_eq(netaddr_parse("[2001:db8::1]:3478", 0, &b), 0);
	ck_assert_str_eq(netaddr_str((struct sockaddr *)&b, buf, sizeof(buf)),
	    "[2001:db8::1]:3478");
	ck_assert_int_eq(netaddr_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&b), 0);
	ck_assert_int_eq(netaddr_parse("192.0.2.1:1", 0, &b), 0);
	ck_assert_int_eq(netaddr_equal_ip((struct sockaddr *)&a,
	    (struct sockaddr *)&b), 1);
	ck_assert_int_eq(netaddr_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&b), 0);
	netaddr_set_port((struct sockaddr *)&b, 32853);
	ck_assert_int_eq(netaddr_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&b), 1);
	/* names are not literals */
	ck_assert_int_eq(netaddr_parse("localhost:1", 0, &a), -1);
	ck_assert_int_eq(netaddr_parse("300.1.1.1:1", 0, &a), -1);
}
END_TEST

START_TEST(test_local)
{
	struct sockaddr_storage a, src;

	ck_assert_int_eq(netaddr_parse("127.0.0.1:1", 0, &a), 0);
	ck_assert_int_eq(netaddr_is_local((struct sockaddr *)&a), 1);
	/* 192.0.2.0/24 is TEST-NET-1: never assigned to this host */
	ck_assert_int_eq(netaddr_parse("192.0.2.77:1", 0, &a), 0);
	ck_assert_int_eq(netaddr_is_local((struct sockaddr *)&a), 0);
	ck_assert_int_eq(netaddr_parse("127.0.0.1:9", 0, &a), 0);
	ck_assert_int_eq(netaddr_route_src((struct sockaddr *)&a, &src), 0);
	ck_assert_int_eq(src.ss_family, AF_INET);
}
END_TEST

/* the default route from the kernel's tables: lowest metric, up, with a
 * gateway; host routes, rejects and junk lines skipped */
START_TEST(test_default_route)
{
	static const char route4[] =
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
	    "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\n"
	    "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\n"
	    "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\n"
	    "eth1\t00000000\t0103A8C0\t0001\t0\t0\t1\t00000000\n"
	    "junk\n"
	    "eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\n";
	static const char route6[] =
	    "fd000000000000000000000000000000 40 "
	    "00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 "
	    "00000001     eth0\n"
	    "00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000001 00000400 00000003 00000000 "
	    "00000003     eth0\n"
	    "00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 ffffffff 00000001 00000000 "
	    "00200200       lo\n";
	struct sockaddr_storage	gw, src;
	char			ip[64], ifname[17];

	ck_assert_int_eq(netroute_default_gw_parse(AF_INET, route4, &gw,
	    ifname), 0);
	ck_assert_str_eq(netaddr_ipstr((struct sockaddr *)&gw, ip,
	    sizeof(ip)), "192.168.2.1");
	ck_assert_int_eq(netroute_default_gw_parse(AF_INET6, route6, &gw,
	    ifname), 0);
	ck_assert_str_eq(netaddr_ipstr((struct sockaddr *)&gw, ip,
	    sizeof(ip)), "fe80::1");
	ck_assert_str_eq(ifname, "eth0");
	/* none: only on-link routes, a reject route, nothing, garbage */
	ck_assert_int_eq(netroute_default_gw_parse(AF_INET,
	    "Iface\tDestination\n"
	    "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\n", &gw,
	    NULL), -1);
	ck_assert_int_eq(netroute_default_gw_parse(AF_INET6, route6 + 300,
	    &gw, NULL), -1);
	ck_assert_int_eq(netroute_default_gw_parse(AF_INET, "", &gw, NULL),
	    -1);
	ck_assert_int_eq(netroute_default_gw_parse(AF_INET6,
	    "00000000000000000000000000000000 00 zz", &gw, NULL), -1);
	ck_assert_int_eq(netroute_default_gw_parse(AF_UNIX, route4, &gw,
	    NULL), -1);
	/* this machine: when it has a default route, its source is local */
	if (netroute_default_src(AF_INET, &src) == 0)
		ck_assert(netaddr_is_local((struct sockaddr *)&src));
}
END_TEST

Suite *
netaddr_suite(void)
{
	Suite *s = suite_create("netaddr");
	TCase *tc = tcase_create("netaddr");

	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_parse_format_compare);
	tcase_add_test(tc, test_local);
	tcase_add_test(tc, test_default_route);
	suite_add_tcase(s, tc);
	return s;
}
