/*
 * Every unit-test module defines one `Suite *<module>_suite(void)`. They are
 * declared weak here so a module can be added without touching the runner
 * list twice; runner.c runs every one that is linked in.
 */
#ifndef TESTS_UNIT_SUITES_H
#define TESTS_UNIT_SUITES_H

#include <check.h>

#define UNIT_SUITES(X)		\
	X(config)		\
	X(startup)		\
	X(methods)		\
	X(mpack)		\
	X(mpack_map)		\
	X(ipc)			\
	X(stun)			\
	X(netaddr)		\
	X(natbehav)		\
	X(metrics)		\
	X(discover)		\
	X(alloc)		\
	X(packet)		\
	X(http)			\
	X(wsframe)		\
	X(token)		\
	X(session)		\
	X(iplimit)		\
	X(wsmask)		\
	X(relaymsg)		\
	X(invite)		\
	X(join)			\
	X(state)		\
	X(punch)		\
	X(keepalive)		\
	X(fakenat)		\
	X(birthday)		\
	X(lifetime)		\
	X(health)		\
	X(pathsel)		\
	X(upgrade)		\
	X(e2e)			\
	X(mesh)			\
	X(fallback)		\
	X(promtext)		\
	X(portmap)		\
	X(proxyv2)		\
	X(rendezvous)		\
	X(web)			\
	X(meshaddr)		\
	X(meshaddr_pin)		\
	X(join_ext)		\
	X(meshpin)		\
	X(hardnat)		\
	X(ippath)		\
	X(roam)			\
	X(hairpin)		\
	X(relay_backoff)	\
	X(sockrx)		\
	X(tunvnet)		\
	X(nss)			\
	X(hostsfile)		\
	/* new suites above this line, each ending in a backslash */

#define UNIT_DECLARE(name) Suite *name##_suite(void) __attribute__((weak));
UNIT_SUITES(UNIT_DECLARE)
#undef UNIT_DECLARE

#endif
