/*
 * meshctl network's port-mapping part, from punchd's status.get
 * (`portmap`): which protocols the gateway offers and the mapping held.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "meshctl.h"

static const char *
pm_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void
network_portmap_print(const json_t *pm)
{
	const json_t	*map, *v;
	const char	*mode = pm_str(pm, "mode"), *gw = pm_str(pm, "gateway");
	const char	*k, *st, *why;

	map = json_object_get(pm, "mapping");
	if (json_is_object(map))
		printf("Port mapping:     %s -> UDP %lld here, by %s, lease "
		    "%lld s, renewal in %.0f s\n", pm_str(map, "external"),
		    (long long)json_integer_value(json_object_get(map,
		    "internal_port")), pm_str(map, "proto"),
		    (long long)json_integer_value(json_object_get(map,
		    "lease_s")), json_number_value(json_object_get(map,
		    "renew_in_s")));
	else if (!strcmp(mode, "no"))
		printf("Port mapping:     off (punchd.portmap = no)\n");
	else
		printf("Port mapping:     none held\n");
	if (strcmp(mode, "no") != 0)
		printf("  gateway:        %s (punchd.portmap = %s)\n",
		    gw[0] ? gw : "none found", mode);
	json_object_foreach((json_t *)json_object_get(pm, "protocols"), k, v) {
		st = pm_str(v, "state");
		why = pm_str(v, "reason");
		printf("  %-8s        %-*s%s\n", k, why[0] ? 8 : 0,
		    !strcmp(st, "offered") ? "offered (the gateway answers; "
		    "another protocol is used)" : st, why);
	}
}

/* Print (or add to out, with --json) punchd's port mapping; pstatus is
 * punchd's status.get, NULL when punchd is not running. */
void
network_portmap(json_t *out, const json_t *pstatus)
{
	const json_t *pm = json_object_get(pstatus, "portmap");

	if (out != NULL)
		json_object_set_new(out, "portmap", pm != NULL ?
		    json_deep_copy(pm) : json_null());
	else if (pm == NULL)
		printf("Port mapping:     unknown (punchd is not running)\n");
	else
		network_portmap_print(pm);
}
