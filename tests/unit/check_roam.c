/*
 * punchd/roamlogic: netlink bursts debounced (quiet, hold), path and NAT
 * news at once, one look per gap at most, news during the gap kept;
 * punchd/netwatch: the rtnetlink parser counts address and route
 * messages and refuses malformed buffers.
 */
#include <stdint.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "punchd/netwatch.h"
#include "punchd/roamlogic.h"
#include "suites.h"

#define EPS	1e-9

START_TEST(test_burst_debounced)
{
	struct roamlogic	r;
	double			t;

	roamlogic_init(&r);
	ck_assert(roamlogic_due(&r) < 0);
	ck_assert_uint_eq(roamlogic_take(&r, 100), 0);
	/* a DHCP renewal: address gone, address new, routes, 5 ms apart */
	for (t = 10.000; t < 10.021; t += 0.005)
		roamlogic_note(&r, ROAM_NET, t);
	ck_assert(roamlogic_due(&r) > 10.02 + ROAMLOGIC_QUIET - EPS);
	ck_assert(roamlogic_due(&r) < 10.02 + ROAMLOGIC_QUIET + EPS);
	ck_assert_uint_eq(roamlogic_take(&r, 10.1), 0);	/* burst not over */
	ck_assert_uint_eq(roamlogic_take(&r, 10.18), ROAM_NET);
	ck_assert_uint_eq(r.looks, 1);
	ck_assert(roamlogic_due(&r) < 0);		/* nothing pending */
	ck_assert_uint_eq(roamlogic_take(&r, 20), 0);
}
END_TEST

START_TEST(test_chatty_link_held)
{
	struct roamlogic	r;
	double			t, due;

	roamlogic_init(&r);
	/* a flapping link: a message every 0.1 s never leaves 0.15 s of
	 * quiet; the hold makes the look anyway */
	for (t = 0; t < 0.45; t += 0.1) {
		roamlogic_note(&r, ROAM_NET, t);
		ck_assert_uint_eq(roamlogic_take(&r, t), 0);
	}
	due = roamlogic_due(&r);
	ck_assert(due <= ROAMLOGIC_HOLD + EPS);
	ck_assert_uint_eq(roamlogic_take(&r, ROAMLOGIC_HOLD), ROAM_NET);
	/* it goes on flapping: one look per gap at most */
	for (t = 0.55; t < 5; t += 0.1)
		roamlogic_note(&r, ROAM_NET, t);
	ck_assert(roamlogic_due(&r) >= ROAMLOGIC_HOLD + ROAMLOGIC_GAP - EPS);
	ck_assert_uint_eq(roamlogic_take(&r, ROAMLOGIC_HOLD + 0.9), 0);
	ck_assert_uint_eq(roamlogic_take(&r, ROAMLOGIC_HOLD +
	    ROAMLOGIC_GAP), ROAM_NET);
	ck_assert_uint_eq(r.looks, 2);
}
END_TEST

START_TEST(test_path_at_once_paced)
{
	struct roamlogic	r;
	double			t;
	unsigned long		looks = 0;

	roamlogic_init(&r);
	/* a dead path: look now */
	roamlogic_note(&r, ROAM_PATH, 50);
	ck_assert(roamlogic_due(&r) <= 50 + EPS);
	ck_assert_uint_eq(roamlogic_take(&r, 50), ROAM_PATH);
	/* 50 peers' paths die in the next 3 s, stund says the NAT changed:
	 * a look per gap, never more, and the last news still gets one */
	for (t = 50.01; t < 53; t += 0.06) {
		roamlogic_note(&r, (int)(t * 100) % 7 == 0 ? ROAM_NAT :
		    ROAM_PATH, t);
		if (roamlogic_take(&r, t) != 0)
			looks++;
	}
	ck_assert_uint_le(looks, 3);
	ck_assert_uint_ge(looks, 2);
	ck_assert(roamlogic_due(&r) >= 0);
	t = roamlogic_due(&r);
	ck_assert_uint_ne(roamlogic_take(&r, t), 0);
	ck_assert(roamlogic_due(&r) < 0);
	/* news of all kinds in one look */
	roamlogic_note(&r, ROAM_NET, 100);
	roamlogic_note(&r, ROAM_NAT, 100.01);
	ck_assert(roamlogic_due(&r) <= 100.01 + EPS);	/* NAT: at once */
	ck_assert_uint_eq(roamlogic_take(&r, 100.01), ROAM_NET | ROAM_NAT);
	roamlogic_note(&r, 0x80, 101);			/* unknown: ignored */
	ck_assert(roamlogic_due(&r) < 0);
}
END_TEST

START_TEST(test_words)
{
	char buf[160];

	roamlogic_words(ROAM_NET | ROAM_PATH, buf, sizeof(buf));
	ck_assert_str_eq(buf, "an address or route changed, a direct path "
	    "went quiet");
	roamlogic_words(ROAM_NAT, buf, sizeof(buf));
	ck_assert_str_eq(buf, "stund saw the NAT change");
	roamlogic_words(ROAM_PATH | ROAM_NAT, buf, 8);	/* truncated, ended */
	ck_assert_uint_eq(strlen(buf), 7);
}
END_TEST

/* one netlink message of type `type` with `payload` bytes of body */
static size_t
nl_msg(uint8_t *at, uint16_t type, size_t payload, unsigned rtm_flags)
{
	struct nlmsghdr	*nh = (struct nlmsghdr *)at;

	memset(at, 0, NLMSG_SPACE(payload));
	nh->nlmsg_len = NLMSG_LENGTH(payload);
	nh->nlmsg_type = type;
	if (type == RTM_NEWROUTE || type == RTM_DELROUTE)
		((struct rtmsg *)NLMSG_DATA(nh))->rtm_flags = rtm_flags;
	return NLMSG_SPACE(payload);
}

START_TEST(test_netlink_parse)
{
	uint32_t	 words[1024] = { 0 };
	uint8_t		*buf = (uint8_t *)words;
	size_t		 len = 0;

	ck_assert_int_eq(netwatch_parse(buf, 0), 0);
	len += nl_msg(buf + len, RTM_NEWADDR, sizeof(struct ifaddrmsg) + 8, 0);
	len += nl_msg(buf + len, RTM_DELADDR, sizeof(struct ifaddrmsg), 0);
	len += nl_msg(buf + len, RTM_NEWROUTE, sizeof(struct rtmsg) + 16, 0);
	len += nl_msg(buf + len, RTM_NEWROUTE, sizeof(struct rtmsg),
	    RTM_F_CLONED);			/* a cache entry: not news */
	len += nl_msg(buf + len, RTM_NEWLINK, 32, 0);	/* not watched */
	len += nl_msg(buf + len, NLMSG_DONE, 4, 0);
	ck_assert_int_eq(netwatch_parse(buf, len), 3);
	/* hostile: a header that claims more than there is */
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len + 4;
	ck_assert_int_eq(netwatch_parse(buf, len), -1);
	/* a length below the header's own */
	((struct nlmsghdr *)buf)->nlmsg_len = 3;
	ck_assert_int_eq(netwatch_parse(buf, len), -1);
	/* an address message too short for its ifaddrmsg */
	len = nl_msg(buf, RTM_NEWADDR, 2, 0);
	ck_assert_int_eq(netwatch_parse(buf, len), -1);
	/* a route message too short for its rtmsg */
	len = nl_msg(buf, RTM_DELROUTE, 4, 0);
	ck_assert_int_eq(netwatch_parse(buf, len), -1);
	/* a torn tail: half a header after a good message */
	len = nl_msg(buf, RTM_NEWADDR, sizeof(struct ifaddrmsg), 0);
	ck_assert_int_eq(netwatch_parse(buf, len + 8), -1);
	ck_assert_int_eq(netwatch_parse(buf, 5), -1);
}
END_TEST

Suite *
roam_suite(void)
{
	Suite	*s = suite_create("roam");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_burst_debounced);
	tcase_add_test(tc, test_chatty_link_held);
	tcase_add_test(tc, test_path_at_once_paced);
	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_netlink_parse);
	suite_add_tcase(s, tc);
	return s;
}
