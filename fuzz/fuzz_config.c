/*
 * The config file parser (common/config.c over inih) with stund's real
 * key table: the input is the file, written to a memfd that config_load()
 * opens by its /proc/self/fd path like any other file. Then what stund
 * does next: stund_config_check(), and each input line as a -o override.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "common/log.h"
#include "stund/stund.h"

static int	mfd = -1;
static char	path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stund_config	 c;
	char			 err[256], *s, *line, *save;

	if (mfd == -1) {
		log_init("fuzz_config", LOG_LVL_ERR);
		if ((mfd = memfd_create("fuzz-config", MFD_CLOEXEC)) == -1) {
			perror("memfd_create");
			exit(1);
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	}
	if (ftruncate(mfd, 0) == -1 || pwrite(mfd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	stund_config_defaults(&c);
	err[0] = '\0';
	if (stund_config_load(&c, path, 0, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();	/* an error must say why */
	} else
		(void)stund_config_check(&c, err, sizeof(err));
	if (strnlen(err, sizeof(err)) == sizeof(err))
		abort();

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	stund_config_defaults(&c);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		(void)stund_config_override(&c, line, err, sizeof(err));
	free(s);
	return 0;
}
