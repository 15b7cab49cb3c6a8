/*
 * The single check runner: every linked suite, in one SRunner. CK_FORK is
 * left to check's default (fork per test) so a crash fails one test, not the
 * run; the asan target runs the same binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

typedef Suite *suite_fn(void);

int
main(int argc, char *argv[])
{
	struct { const char *name; suite_fn *fn; } all[] = {
#define UNIT_ENTRY(name) { #name, name##_suite },
		UNIT_SUITES(UNIT_ENTRY)
#undef UNIT_ENTRY
	};
	SRunner	*sr = NULL;
	size_t	 i;
	int	 failed, nsuites = 0;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i].fn == NULL)
			continue;
		/* optional filter: unit_tests stun ipc */
		if (argc > 1) {
			int want = 0;
			for (int a = 1; a < argc; a++)
				if (!strcmp(argv[a], all[i].name))
					want = 1;
			if (!want)
				continue;
		}
		if (sr == NULL)
			sr = srunner_create(all[i].fn());
		else
			srunner_add_suite(sr, all[i].fn());
		nsuites++;
	}
	if (sr == NULL) {
		fprintf(stderr, "unit_tests: no suite linked or selected\n");
		return 1;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
