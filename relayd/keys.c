/*
 * The relay's token secrets, by key id (docs/relay-tokens.md):
 *
 *   secret = S  or  secret_file = FILE     key id 0
 *   secrets = ID:FILE[,ID:FILE...]          more keys, one secret per file
 *
 * Access tokens (v2) name the key that made them; session tokens (v1) are
 * tried with every key. Rotation: add a key under a new id, reload, issue
 * with it, and remove the old one (reload again) once its tokens are gone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relayd/relayd.h"

/* The first line of path into buf; -1 with err set. */
static int
keys_read_file(const char *path, char *buf, size_t len, char *err,
    size_t errlen)
{
	FILE	*f;
	char	 line[TOKEN_SECRET_MAX + 3];

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "secret file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (strlen(line) >= len) {
		snprintf(err, errlen, "secret file %s: secret longer than %zu "
		    "bytes", path, len - 1);
		explicit_bzero(line, sizeof(line));
		return -1;
	}
	strlcpy(buf, line, len);
	explicit_bzero(line, sizeof(line));
	return 0;
}

static int
keys_add(struct relayd_conf *c, unsigned id, const char *secret,
    const char *what, char *err, size_t errlen)
{
	size_t len = strlen(secret);

	if (len < TOKEN_SECRET_MIN) {
		snprintf(err, errlen, "%s: secret shorter than %d bytes", what,
		    TOKEN_SECRET_MIN);
		return -1;
	}
	if (token_keyring_find(&c->keys, id) != NULL) {
		snprintf(err, errlen, "%s: key id %u given twice", what, id);
		return -1;
	}
	if (token_keyring_add(&c->keys, id, secret, len) == -1) {
		snprintf(err, errlen, "%s: more than %d keys", what,
		    TOKEN_KEYS_MAX);
		return -1;
	}
	return 0;
}

/* One "ID:FILE" of secrets= (item is NUL-terminated, may be changed). */
static int
keys_item(struct relayd_conf *c, char *item, char *err, size_t errlen)
{
	char		 secret[TOKEN_SECRET_MAX + 1], what[300], *colon, *end;
	unsigned long	 id;
	int		 rv;

	item += strspn(item, " \t");
	for (end = item + strlen(item); end > item && (end[-1] == ' ' ||
	    end[-1] == '\t');)
		*--end = '\0';
	if ((colon = strchr(item, ':')) == NULL || colon == item ||
	    colon[1] == '\0') {
		snprintf(err, errlen, "secrets: '%.64s' is not ID:FILE", item);
		return -1;
	}
	*colon = '\0';
	errno = 0;
	id = strtoul(item, &end, 10);
	if (*end != '\0' || errno != 0 || id > TOKEN_KID_MAX ||
	    item[0] == '-' || item[0] == '+') {
		snprintf(err, errlen, "secrets: key id '%.16s' is not a number "
		    "from 0 to %d", item, TOKEN_KID_MAX);
		return -1;
	}
	if (keys_read_file(colon + 1, secret, sizeof(secret), err,
	    errlen) == -1)
		return -1;
	snprintf(what, sizeof(what), "secrets: key %lu (%.256s)", id,
	    colon + 1);
	rv = keys_add(c, (unsigned)id, secret, what, err, errlen);
	explicit_bzero(secret, sizeof(secret));
	return rv;
}

int
keys_load(struct relayd_conf *c, char *err, size_t errlen)
{
	char	list[sizeof(c->secrets)], *item, *next;

	token_keyring_clear(&c->keys);
	if (c->secret_file[0] != '\0' && c->secret[0] != '\0') {
		snprintf(err, errlen, "set secret or secret_file, not both");
		return -1;
	}
	if (c->secret_file[0] != '\0' && keys_read_file(c->secret_file,
	    c->secret, sizeof(c->secret), err, errlen) == -1)
		return -1;
	if (c->secret[0] != '\0' && keys_add(c, 0, c->secret, "secret", err,
	    errlen) == -1)
		return -1;
	strlcpy(list, c->secrets, sizeof(list));
	for (item = list; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		if (item[strspn(item, " \t")] == '\0' && next == NULL &&
		    item == list)
			break;		/* secrets = (empty) */
		if (keys_item(c, item, err, errlen) == -1) {
			token_keyring_clear(&c->keys);
			return -1;
		}
	}
	return 0;
}
