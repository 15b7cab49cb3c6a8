/*
 * Mesh members as /etc/hosts lines (hostsline.h). Names are members'
 * choice: cut down to what a host name label may hold, so a name can
 * never add a field, a comment or a line.
 */
#include <stdio.h>

#include "hostsline.h"

void
hostsline_label(const char *s, char *out, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < 63; i++)
		out[i] = ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')) ? s[i] : '-';
	out[i] = '\0';
}

void
hostsline_format(char *buf, size_t len, const char *addr, const char *name,
    const char *idhex, const char *mesh, int self)
{
	char	label[80], domain[80], raw[80];

	if (name == NULL || *name == '\0') {
		snprintf(raw, sizeof(raw), "node-%s", idhex != NULL ? idhex :
		    "");
		name = raw;
	}
	hostsline_label(name, label, sizeof(label));
	hostsline_label(mesh != NULL ? mesh : "mesh", domain, sizeof(domain));
	snprintf(buf, len, "%-39s %s %s.%s%s\n", addr != NULL ? addr : "-",
	    label, label, domain, self ? "\t# this node" : "");
}
