/*
 * The lines of an /etc/hosts list of mesh members, written the same by
 * `meshctl hosts` and by punchd's hosts file (punchd/hostsfile.c, read by
 * libnss_atmosphere): "ADDRESS NAME NAME.MESH[\t# this node]".
 */
#ifndef COMMON_HOSTSLINE_H
#define COMMON_HOSTSLINE_H

#include <stddef.h>

/* a line's length at most: address, two labels, the comment */
#define HOSTSLINE_MAX	256

/* a host name label from s: [A-Za-z0-9-], at most 63 bytes */
void	hostsline_label(const char *s, char *out, size_t len);
/*
 * One member's line for one address into buf (HOSTSLINE_MAX), newline
 * included: name cut to a label ("node-IDHEX" when name is empty), mesh
 * the mesh's name (NULL: "mesh") cut to one too.
 */
void	hostsline_format(char *buf, size_t len, const char *addr,
	    const char *name, const char *idhex, const char *mesh, int self);

#endif
