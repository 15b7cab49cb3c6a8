/*
 * meshctl/cmd_relaytest.c on its own: relaytest URL [options] is
 * meshctl relay-test URL [options], without the rest of meshctl, so the
 * relay client's tests do not depend on meshctl being built.
 */
#include "common/log.h"
#include "meshctl/meshctl.h"

struct meshctl_opts meshctl;

#include "meshctl/cmd_relaytest.c"

int
main(int argc, char **argv)
{
	log_init("relay-test", LOG_LVL_WARNING);
	argv[0] = "relay-test";
	return cmd_relaytest(argc, argv);
}
