/*
 * Temporary driver for meshctl/cmd_relaytest.c until meshctl's command table
 * lists "relay-test": relaytest URL [options] == meshctl relay-test URL ...
 */
#include "common/log.h"

int	cmd_relaytest(int argc, char **argv);

#include "meshctl/cmd_relaytest.c"

int
main(int argc, char **argv)
{
	log_init("relay-test", LOG_LVL_WARNING);
	argv[0] = "relay-test";
	return cmd_relaytest(argc, argv);
}
