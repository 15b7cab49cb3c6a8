/*
 * punchd/upgrade: a relayed pair retries direct at least every 60 s, at
 * once on a changed candidate, and backs off with its reason when hopeless.
 */
#include <math.h>
#include <string.h>

#include "punchd/upgrade.h"
#include "suites.h"

START_TEST(test_cadence)
{
	struct upgrade	u;
	double		t = 0, last = 0, gap, maxgap = 0;
	int		tries = 0;

	upgrade_init(&u, 0);
	ck_assert(upgrade_due(&u, 0));
	/* relayed for an hour, every try failing: 15, 30, then 60 s */
	for (t = 0; t < 3600; t += 0.5)
		if (upgrade_due(&u, t)) {
			gap = t - last;
			if (tries > 0 && gap > maxgap)
				maxgap = gap;
			if (tries == 1)
				ck_assert(fabs(gap - 15) < 0.6);
			if (tries == 2)
				ck_assert(fabs(gap - 30) < 0.6);
			last = t;
			tries++;
			upgrade_failed(&u, t, 0, "no pair answered");
		}
	ck_assert(maxgap <= 60 + 0.5);
	ck_assert_int_ge(tries, 60);
	ck_assert_ptr_nonnull(strstr(u.reason, "next try in 60 s"));
	/* a changed candidate: at once, and the steps start over */
	upgrade_changed(&u, 3600.2, "peer's mapping changed");
	ck_assert(upgrade_due(&u, 3600.2));
	ck_assert_ptr_nonnull(strstr(u.reason, "peer's mapping changed"));
	upgrade_failed(&u, 3601, 0, NULL);
	ck_assert(u.next == 3616);
	/* direct: nothing due, until it is lost */
	upgrade_succeeded(&u);
	ck_assert(!upgrade_due(&u, 1e12));
	upgrade_lost(&u, 4000);
	ck_assert(upgrade_due(&u, 4000));
}
END_TEST

START_TEST(test_hopeless_backs_off)
{
	struct upgrade	u;
	const char	*why = "both sides map per destination with random "
			    "ports; birthday probing sent 2048 probes in 10 s, "
			    "no crossing";

	upgrade_init(&u, 0);
	upgrade_failed(&u, 0, 1, why);
	ck_assert(u.hopeless);
	ck_assert(u.next == 300);
	ck_assert_ptr_nonnull(strstr(u.reason, "hopeless: both sides map"));
	ck_assert_ptr_nonnull(strstr(u.reason, "or when a candidate changes"));
	upgrade_failed(&u, 300, 1, why);
	ck_assert(u.next == 300 + 600);
	upgrade_failed(&u, 900, 1, why);
	upgrade_failed(&u, 2100, 1, why);
	upgrade_failed(&u, 4500, 1, why);
	ck_assert(u.next == 4500 + UPGRADE_HOPELESS_MAX);
	upgrade_failed(&u, 8100, 1, why);
	ck_assert(u.next == 8100 + UPGRADE_HOPELESS_MAX);
	/* a new candidate makes it worth trying again */
	upgrade_changed(&u, 9000, NULL);
	ck_assert(upgrade_due(&u, 9000));
	ck_assert(!u.hopeless);
	ck_assert_ptr_nonnull(strstr(u.reason, "candidates changed"));
}
END_TEST

Suite *
upgrade_suite(void)
{
	Suite	*s = suite_create("upgrade");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_cadence);
	tcase_add_test(tc, test_hopeless_backs_off);
	suite_add_tcase(s, tc);
	return s;
}
