/*
 * proto/token.c: relay session tokens. Valid, expired, for another
 * session, tampered in every part, wrong lengths, wrong secret.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/token.h"
#include "suites.h"

static const char secret[] = "0123456789abcdef0123456789abcdef";
#define SL	(sizeof(secret) - 1)
#define NOW	1800000000ULL

static void
issue(const char *session, uint64_t expiry, char *buf)
{
	ck_assert_int_eq(token_issue(secret, SL, session, expiry, buf,
	    TOKEN_MAXLEN), 0);
}

START_TEST(test_valid)
{
	char tok[TOKEN_MAXLEN];

	ck_assert_int_ne(sodium_init(), -1);
	issue("s1", NOW + 60, tok);
	ck_assert_int_eq(strncmp(tok, "v1.1800000060.", 14), 0);
	ck_assert_uint_eq(strlen(tok), 14 + 43);
	ck_assert_int_eq(token_check(secret, SL, "s1", tok, NOW), TOKEN_OK);
	ck_assert_int_eq(token_check(secret, SL, "s1", tok, NOW + 59),
	    TOKEN_OK);
	/* deterministic: the same inputs give the same token */
	{
		char again[TOKEN_MAXLEN];

		issue("s1", NOW + 60, again);
		ck_assert_str_eq(tok, again);
	}
	/* only URL-safe characters */
	ck_assert_uint_eq(strspn(tok, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"), strlen(tok));
}
END_TEST

START_TEST(test_expired)
{
	char tok[TOKEN_MAXLEN];

	issue("s1", NOW, tok);
	ck_assert_int_eq(token_check(secret, SL, "s1", tok, NOW), TOKEN_EXPIRED);
	ck_assert_int_eq(token_check(secret, SL, "s1", tok, NOW + 1000),
	    TOKEN_EXPIRED);
	ck_assert_int_eq(token_check(secret, SL, "s1", tok, NOW - 1), TOKEN_OK);
}
END_TEST

START_TEST(test_wrong_session_or_secret)
{
	char tok[TOKEN_MAXLEN];

	issue("s1", NOW + 60, tok);
	ck_assert_int_eq(token_check(secret, SL, "s2", tok, NOW), TOKEN_BAD_MAC);
	ck_assert_int_eq(token_check(secret, SL, "s1x", tok, NOW),
	    TOKEN_BAD_MAC);
	ck_assert_int_eq(token_check(secret, SL, "", tok, NOW), TOKEN_BAD_MAC);
	ck_assert_int_eq(token_check("another secret, 32 bytes long!!", 31,
	    "s1", tok, NOW), TOKEN_BAD_MAC);
	ck_assert_int_eq(token_check(secret, SL - 1, "s1", tok, NOW),
	    TOKEN_BAD_MAC);
}
END_TEST

START_TEST(test_tampered)
{
	char	tok[TOKEN_MAXLEN], t[TOKEN_MAXLEN];
	size_t	i, n;
	char	c;

	issue("s1", NOW + 60, tok);
	n = strlen(tok);
	/* change every character in turn: never OK */
	for (i = 0; i < n; i++) {
		memcpy(t, tok, n + 1);
		c = t[i];
		t[i] = c == 'A' ? 'B' : (c == '9' ? '8' : (c == '.' ? '-' :
		    'A'));
		ck_assert_int_ne(token_check(secret, SL, "s1", t, NOW),
		    TOKEN_OK);
	}
	/* a later expiry with the old MAC */
	memcpy(t, tok, n + 1);
	t[11] = '9';
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_BAD_MAC);
	/* flip the MAC's last character (its spare bits must be zero) */
	memcpy(t, tok, n + 1);
	t[n - 1] = t[n - 1] == 'A' ? 'B' : 'A';
	ck_assert_int_ne(token_check(secret, SL, "s1", t, NOW), TOKEN_OK);
}
END_TEST

START_TEST(test_malformed)
{
	char	tok[TOKEN_MAXLEN], t[TOKEN_MAXLEN + 32];
	size_t	n;

	issue("s1", NOW + 60, tok);
	n = strlen(tok);
	/* wrong lengths: cut, extended */
	memcpy(t, tok, n + 1);
	t[n - 1] = '\0';
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_MALFORMED);
	memcpy(t, tok, n);
	t[n] = 'A';
	t[n + 1] = '\0';
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_MALFORMED);
	ck_assert_int_eq(token_check(secret, SL, "s1", "", NOW), TOKEN_MALFORMED);
	ck_assert_int_eq(token_check(secret, SL, "s1", NULL, NOW),
	    TOKEN_MALFORMED);
	ck_assert_int_eq(token_check(secret, SL, "s1", "v1.", NOW),
	    TOKEN_MALFORMED);
	ck_assert_int_eq(token_check(secret, SL, "s1", "v2", NOW),
	    TOKEN_MALFORMED);
	/* wrong version, leading zero, sign, huge expiry */
	memcpy(t, tok, n + 1);
	t[1] = '2';
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "v1.0%s", tok + 3);
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "v1.-%s", tok + 3);
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "v1.99999999999999999999%s", tok + 13);
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_MALFORMED);
	/* padding or standard-base64 characters in the MAC */
	memcpy(t, tok, n + 1);
	t[n - 1] = '=';
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_MALFORMED);
	memcpy(t, tok, n + 1);
	t[n - 2] = '+';
	ck_assert_int_eq(token_check(secret, SL, "s1", t, NOW), TOKEN_MALFORMED);
	/* buffer too small to issue into */
	ck_assert_int_eq(token_issue(secret, SL, "s1", NOW, t, 20), -1);
	ck_assert_str_eq(token_result_str(TOKEN_BAD_MAC), "bad_mac");
}
END_TEST

Suite *
token_suite(void)
{
	Suite	*s = suite_create("token");
	TCase	*tc = tcase_create("token");

	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_wrong_session_or_secret);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	return s;
}
