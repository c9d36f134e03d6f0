/*
 * test_addr - the envelope sender and From header parsers: the forms real
 * MTAs and mail clients produce, the obsolete forms RFC 5322 still asks
 * readers to accept, and hostile input that must fail with a reason.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "domain.h"
#include "util.h"

#define G ADDR_FROM_GROUP
#define AT ADDR_FROM_NAME_AT
#define ND ADDR_FROM_NO_DOMAIN
#define OBS ADDR_FROM_OBSOLETE

struct env_case {
	const char *arg;
	enum addr_status status;
	const char *domain; /* ADDR_OK: the domain */
	const char *reason; /* otherwise: a substring of why */
};

struct from_case {
	const char *value;
	enum addr_status status;
	const char *domain; /* ADDR_OK: the first domain */
	int nmailboxes;
	int ndomains;
	unsigned flags;     /* exactly these */
	const char *reason; /* not ADDR_OK: a substring of why */
};

static const char *const status_names[] = {
    [ADDR_OK] = "ok",
    [ADDR_NULL] = "null",
    [ADDR_NO_DOMAIN] = "no-domain",
    [ADDR_INVALID] = "invalid",
};

static const struct env_case env_cases[] = {
    /* what Postfix and Sendmail pass */
    {"<alice@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<alice@Example.NL>", ADDR_OK, "example.nl", NULL},
    {"<ALICE@EXAMPLE.NL>", ADDR_OK, "example.nl", NULL},
    {"<alice+tag@sub.example.nl>", ADDR_OK, "sub.example.nl", NULL},
    {"<bounce-123-alice=x.nl@lists.example.nl>", ADDR_OK, "lists.example.nl",
     NULL},
    {"<SRS0=HHH=TT=example.org=alice@fwd.example.nl>", ADDR_OK,
     "fwd.example.nl", NULL},
    {"<MAILER-DAEMON@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<alice@_spf.example.nl>", ADDR_OK, "_spf.example.nl", NULL},
    {"<alice@example.nl.>", ADDR_OK, "example.nl", NULL},
    /* sloppy but unambiguous */
    {"alice@example.nl", ADDR_OK, "example.nl", NULL},
    {"  <alice@example.nl>  ", ADDR_OK, "example.nl", NULL},
    {"< alice@example.nl >", ADDR_OK, "example.nl", NULL},
    {"\t<alice@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<a..b@docomo.ne.jp>", ADDR_OK, "docomo.ne.jp", NULL},
    {"<.a.@ezweb.ne.jp>", ADDR_OK, "ezweb.ne.jp", NULL},
    /* source routes are accepted and ignored (RFC 5321 4.1.2) */
    {"<@relay1,@relay2:alice@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<@relay.example.org:alice@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<@[192.0.2.1]:alice@example.nl>", ADDR_OK, "example.nl", NULL},
    /* quoted local parts: the domain is after the closing quote */
    {"<\"a@b c\"@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<\"a\\\"b\"@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<\"a\\\\\"@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<\"alice@evil.nl\"@example.nl>", ADDR_OK, "example.nl", NULL},
    {"<\"\"@example.nl>", ADDR_OK, "example.nl", NULL},
    /* SMTPUTF8 */
    {"<j\xc3\xb6rg@b\xc3\xbc"
     "cher.example>",
     ADDR_OK, "xn--bcher-kva.example", NULL},
    {"<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
     "\xe5\x91\x8a>",
     ADDR_OK, "xn--fsqu00a.xn--4rr70v", NULL},
    {"<alice@XN--BCHER-KVA.example>", ADDR_OK, "xn--bcher-kva.example", NULL},
    /* the null sender */
    {"<>", ADDR_NULL, NULL, "null sender"},
    {"< >", ADDR_NULL, NULL, "null sender"},
    {" <\t> ", ADDR_NULL, NULL, "null sender"},
    /* no domain */
    {"<alice>", ADDR_NO_DOMAIN, NULL, "no domain in 'alice'"},
    {"postmaster", ADDR_NO_DOMAIN, NULL, "no domain"},
    {"<@relay:alice>", ADDR_NO_DOMAIN, NULL, "no domain"},
    {"<alice@[192.0.2.1]>", ADDR_NO_DOMAIN, NULL, "address literal"},
    {"<alice@[IPv6:2001:db8::1]>", ADDR_NO_DOMAIN, NULL,
     "address literal [IPv6:2001:db8::1]"},
    /* malformed */
    {"", ADDR_INVALID, NULL, "empty MAIL FROM"},
    {"  \t ", ADDR_INVALID, NULL, "empty MAIL FROM"},
    {"<", ADDR_INVALID, NULL, "'<' without '>'"},
    {">", ADDR_INVALID, NULL, "'>' without '<'"},
    {"<alice@example.nl", ADDR_INVALID, NULL, "'<' without '>'"},
    {"alice@example.nl>", ADDR_INVALID, NULL, "'>' without '<'"},
    {"<alice@example.nl> SIZE=100", ADDR_INVALID, NULL, "'<' without"},
    {"Alice <alice@example.nl>", ADDR_INVALID, NULL, "text before '<'"},
    {"<<alice@example.nl>>", ADDR_INVALID, NULL, "invalid character 0x3c"},
    {"<alice@exa mple.nl>", ADDR_INVALID, NULL, "invalid character 0x20"},
    {"<alice@-x.nl>", ADDR_INVALID, NULL, "starts or ends with '-'"},
    {"<alice@x-.nl>", ADDR_INVALID, NULL, "starts or ends with '-'"},
    {"<alice@ex$ample.nl>", ADDR_INVALID, NULL, "invalid character 0x24"},
    {"<alice@\"x\".nl>", ADDR_INVALID, NULL, "invalid character 0x22"},
    {"<alice@x..nl>", ADDR_INVALID, NULL, "empty label"},
    {"<alice@.example.nl>", ADDR_INVALID, NULL, "empty label"},
    {"<alice@exam\x01ple.nl>", ADDR_INVALID, NULL, "0x01"},
    {"<alice@\xff\xfe.nl>", ADDR_INVALID, NULL, "internationalized"},
    {"<alice@>", ADDR_INVALID, NULL, "no domain after '@'"},
    {"<@example.nl>", ADDR_INVALID, NULL, "malformed source route"},
    {"<@relay1,@relay2>", ADDR_INVALID, NULL, "malformed source route"},
    {"<@:alice@example.nl>", ADDR_INVALID, NULL, "malformed source route"},
    {"<@relay,:alice@example.nl>", ADDR_INVALID, NULL,
     "malformed source route"},
    {"<@relay:>", ADDR_INVALID, NULL, "no address after the source route"},
    {"<@>", ADDR_INVALID, NULL, "malformed source route"},
    {"<alice@bank.nl@evil.nl>", ADDR_INVALID, NULL, "more than one '@'"},
    {"<alice bob@example.nl>", ADDR_INVALID, NULL, "invalid character 0x20"},
    {"<alice\\@x@example.nl>", ADDR_INVALID, NULL, "invalid character 0x5c"},
    {"<\"unterminated@example.nl>", ADDR_INVALID, NULL,
     "malformed quoted local part"},
    {"<\"a\\\">", ADDR_INVALID, NULL, "malformed quoted local part"},
    {"<\"a\x01\"@example.nl>", ADDR_INVALID, NULL,
     "malformed quoted local part"},
    {"<\"a\"b@example.nl>", ADDR_INVALID, NULL,
     "text after the quoted local part"},
    {"<\"a\">", ADDR_NO_DOMAIN, NULL, "no domain"},
    {"<@example.nl:@example.nl>", ADDR_INVALID, NULL, "empty local part"},
    {"<alice@[192.0.2.1>", ADDR_INVALID, NULL, "malformed address literal"},
    {"<alice@[192.0.2.1]x>", ADDR_INVALID, NULL, "malformed address literal"},
    {"<alice@[]>", ADDR_INVALID, NULL, "malformed address literal"},
    {"<alice@[[1]>", ADDR_INVALID, NULL, "malformed address literal"},
    {"<alice@example.nl\n>", ADDR_INVALID, NULL, "0x0a"},
};

static const struct from_case from_cases[] = {
    /* what mail clients write */
    {"alice@example.nl", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"<alice@example.nl>", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"Alice <alice@Example.NL>", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"ALICE@EXAMPLE.NL", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"\"Doe, John\" <john@example.nl>", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"\"Doe, John\"\n\t<john@example.nl>", ADDR_OK, "example.nl", 1, 1, 0,
     NULL},
    {"Alice\r\n <alice@example.nl>", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"alice@example.nl   ", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"  Alice   Smith   <alice@example.nl>  ", ADDR_OK, "example.nl", 1, 1, 0,
     NULL},
    {"\"J\\\"o\\\\e\" <joe@example.nl>", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"\"\" <joe@example.nl>", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"John Q. Public <john@example.nl>", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"[EXTERNAL] Alice <alice@example.nl>", ADDR_OK, "example.nl", 1, 1, 0,
     NULL},
    {"Alice <alice@example.nl.>", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"alice+tag@sub.example.nl", ADDR_OK, "sub.example.nl", 1, 1, 0, NULL},
    {"\"a..b\"@example.nl", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"\"alice smith\"@example.nl", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    /* RFC 2047 encoded words are not decoded, just passed over */
    {"=?UTF-8?B?w4lsaXNl?= <elise@example.nl>", ADDR_OK, "example.nl", 1, 1, 0,
     NULL},
    {"=?utf-8?q?Doe=2C_John?= <john@example.nl>", ADDR_OK, "example.nl", 1, 1,
     0, NULL},
    {"\"=?utf-8?q?Doe,_John?=\" <john@example.nl>", ADDR_OK, "example.nl", 1, 1,
     0, NULL},
    /* comments anywhere CFWS may be, nested */
    {"alice@example.nl (Alice Smith)", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"(c) Alice (more (nested) c) <alice(c)@(c)example.nl(c)> (c)", ADDR_OK,
     "example.nl", 1, 1, 0, NULL},
    {"Alice <alice@example.nl> (tel. \\(555\\) 123)", ADDR_OK, "example.nl", 1,
     1, 0, NULL},
    {"Alice (\\) <evil@evil.nl>) <alice@example.nl>", ADDR_OK, "example.nl", 1,
     1, AT, NULL},
    /* UTF-8 (RFC 6532) */
    {"j\xc3\xb6rg@b\xc3\xbc"
     "cher.example",
     ADDR_OK, "xn--bcher-kva.example", 1, 1, 0, NULL},
    {"\"J\xc3\xb6rg\" <j\xc3\xb6rg@B\xc3\x9c"
     "CHER.example>",
     ADDR_OK, "xn--bcher-kva.example", 1, 1, 0, NULL},
    {"J\xc3\xb6rg M\xc3\xbcller <jm@m\xc3\xbcnchen.de>", ADDR_OK,
     "xn--mnchen-3ya.de", 1, 1, 0, NULL},
    /* obsolete forms (RFC 5322 section 4.4) */
    {"Alice <@relay.example:alice@example.nl>", ADDR_OK, "example.nl", 1, 1,
     OBS, NULL},
    {"Alice <@a.example,@b.example:alice@example.nl>", ADDR_OK, "example.nl", 1,
     1, OBS, NULL},
    {"Alice <,@a.example,,@b.example:alice@example.nl>", ADDR_OK, "example.nl",
     1, 1, OBS, NULL},
    {"alice @ example . nl", ADDR_OK, "example.nl", 1, 1, OBS, NULL},
    {"alice . smith@example.nl", ADDR_OK, "example.nl", 1, 1, OBS, NULL},
    {"a..b@docomo.ne.jp", ADDR_OK, "docomo.ne.jp", 1, 1, OBS, NULL},
    {"abc.@ezweb.ne.jp", ADDR_OK, "ezweb.ne.jp", 1, 1, OBS, NULL},
    {"John Doe@example.nl", ADDR_OK, "example.nl", 1, 1, OBS, NULL},
    {", alice@example.nl", ADDR_OK, "example.nl", 1, 1, OBS, NULL},
    {"alice@example.nl,,bob@example.nl", ADDR_OK, "example.nl", 2, 1, OBS,
     NULL},
    /* several mailboxes: every distinct domain is reported */
    {"alice@example.nl, bob@example.nl", ADDR_OK, "example.nl", 2, 1, 0, NULL},
    {"alice@example.nl, bob@EXAMPLE.nl.", ADDR_OK, "example.nl", 2, 1, 0, NULL},
    {"alice@example.nl, bob@other.nl", ADDR_OK, "example.nl", 2, 2, 0, NULL},
    {"Alice <alice@a.nl>, \"Bob\" <bob@b.nl>, carol@c.nl", ADDR_OK, "a.nl", 3,
     3, 0, NULL},
    {"Alice <alice@example.nl>,", ADDR_OK, "example.nl", 1, 1, 0, NULL},
    {"a@1.nl,a@2.nl,a@3.nl,a@4.nl,a@5.nl,a@6.nl,a@7.nl,a@8.nl,a@1.nl", ADDR_OK,
     "1.nl", 9, 8, 0, NULL},
    /* a mailbox without a domain next to one with */
    {"Doe, John <john@example.nl>", ADDR_OK, "example.nl", 2, 1, ND, NULL},
    {"alice@[192.0.2.1], bob@example.nl", ADDR_OK, "example.nl", 2, 1, ND,
     NULL},
    /* groups (RFC 6854) */
    {"team: alice@example.nl, bob@example.nl;", ADDR_OK, "example.nl", 2, 1, G,
     NULL},
    {"team: alice@example.nl;, bob@other.nl", ADDR_OK, "example.nl", 2, 2, G,
     NULL},
    {"Team: Alice <alice@example.nl>", ADDR_OK, "example.nl", 1, 1, G | OBS,
     NULL},
    {"undisclosed:;, alice@example.nl", ADDR_OK, "example.nl", 1, 1, G, NULL},
    /* an '@' in a display name or comment is noted */
    {"alice@example.nl <alice@example.nl>", ADDR_OK, "example.nl", 1, 1, AT,
     NULL},
    {"alice@Example.NL. <alice@example.nl>", ADDR_OK, "example.nl", 1, 1, AT,
     NULL},
    {"\"alice@bank.nl\" <alice@example.nl>", ADDR_OK, "example.nl", 1, 1, AT,
     NULL},
    {"\"Alice <alice@bank.nl>\" <x@example.nl>", ADDR_OK, "example.nl", 1, 1,
     AT, NULL},
    {"Alice (alice@bank.nl) <alice@example.nl>", ADDR_OK, "example.nl", 1, 1,
     AT, NULL},
    {"Team @ Acme <team@acme.nl>", ADDR_OK, "acme.nl", 1, 1, AT, NULL},
    {"@jack <jack@example.nl>", ADDR_OK, "example.nl", 1, 1, AT, NULL},
    {"Sales @ <sales@example.nl>", ADDR_OK, "example.nl", 1, 1, AT, NULL},
    {"=?utf-8?q?alice@bank.nl?= <x@example.nl>", ADDR_OK, "example.nl", 1, 1,
     AT, NULL},

    /* no domain to judge */
    {"alice", ADDR_NO_DOMAIN, NULL, 1, 0, ND, "no domain in 'alice'"},
    {"MAILER-DAEMON (Mail Delivery System)", ADDR_NO_DOMAIN, NULL, 1, 0, ND,
     "no domain in 'MAILER-DAEMON'"},
    {"<alice>", ADDR_NO_DOMAIN, NULL, 1, 0, ND, "no domain in 'alice'"},
    {"Alice <alice>", ADDR_NO_DOMAIN, NULL, 1, 0, ND, "no domain"},
    {"Van Doe", ADDR_NO_DOMAIN, NULL, 1, 0, ND, "no domain in 'Van Doe'"},
    {"alice@[192.0.2.1]", ADDR_NO_DOMAIN, NULL, 1, 0, ND,
     "address literal [192.0.2.1]"},
    {"Alice <alice@[IPv6:2001:db8::1]>", ADDR_NO_DOMAIN, NULL, 1, 0, ND,
     "address literal"},
    {"undisclosed:;", ADDR_NO_DOMAIN, NULL, 0, 0, G,
     "group 'undisclosed' has no mailbox"},
    {"undisclosed-recipients: ;", ADDR_NO_DOMAIN, NULL, 0, 0, G,
     "has no mailbox"},
    {"\"Our Team\" (c) : (c) ; (c)", ADDR_NO_DOMAIN, NULL, 0, 0, G,
     "has no mailbox"},
    {":;", ADDR_NO_DOMAIN, NULL, 0, 0, G, "group '' has no mailbox"},
    {"team:", ADDR_NO_DOMAIN, NULL, 0, 0, G | OBS, "has no mailbox"},
    {"team: alice;", ADDR_NO_DOMAIN, NULL, 1, 0, G | ND, "no domain"},

    /* nothing there */
    {"", ADDR_INVALID, NULL, 0, 0, 0, "no address in From"},
    {"   \n\t ", ADDR_INVALID, NULL, 0, 0, 0, "no address in From"},
    {"(just a comment)", ADDR_INVALID, NULL, 0, 0, 0, "no address"},
    {",", ADDR_INVALID, NULL, 0, 0, 0, "no address in From"},
    {"<>", ADDR_INVALID, NULL, 0, 0, 0, "empty address '<>'"},
    {"Mail Delivery System <>", ADDR_INVALID, NULL, 0, 0, 0, "empty address"},
    /* unbalanced delimiters */
    {"Alice <alice@example.nl", ADDR_INVALID, NULL, 0, 0, 0, "'<' without '>'"},
    {"Alice <", ADDR_INVALID, NULL, 0, 0, 0, "'<' without '>'"},
    {"Alice alice@example.nl>", ADDR_INVALID, NULL, 0, 0, 0, "'>' without '<'"},
    {">", ADDR_INVALID, NULL, 0, 0, 0, "'>' without '<'"},
    {"\"Alice <alice@example.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "unterminated quoted string"},
    {"\"Alice\\\" <alice@example.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "unterminated quoted string"},
    {"\"Alice\\", ADDR_INVALID, NULL, 0, 0, 0, "unterminated quoted"},
    {"Alice (comment <alice@example.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "unterminated comment"},
    {"Alice ((nested) <alice@example.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "unterminated comment"},
    {"alice@example.nl (a\\", ADDR_INVALID, NULL, 0, 0, 0,
     "unterminated comment"},
    {"Alice) <alice@example.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "')' without '('"},
    {"alice@[192.0.2.1", ADDR_INVALID, NULL, 0, 0, 0,
     "unterminated domain literal"},
    {"alice@[192.0.2.1\\", ADDR_INVALID, NULL, 0, 0, 0,
     "unterminated domain literal"},
    {"alice@[1[2]", ADDR_INVALID, NULL, 0, 0, 0, "'[' inside"},
    {"alice@exa]mple.nl", ADDR_INVALID, NULL, 0, 0, 0, "']' without '['"},
    {"alice\\@example.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "backslash outside quotes"},
    {"alice@example.nl\x01", ADDR_INVALID, NULL, 0, 0, 0,
     "control character 0x01"},
    {"Ali\x7f"
     "ce <alice@example.nl>",
     ADDR_INVALID, NULL, 0, 0, 0, "control character 0x7f"},
    /* bad domains */
    {"alice@exa mple.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "text after the address in 'alice@exa mple.nl'"},
    {"<alice@exa mple.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "unexpected 'mple' after '<alice@exa'"},
    {"alice@-x.nl", ADDR_INVALID, NULL, 0, 0, 0, "starts or ends with '-'"},
    {"Alice <alice@x-.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "starts or ends with '-'"},
    {"alice@ex$ample.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "invalid character 0x24"},
    {"alice@example..nl", ADDR_INVALID, NULL, 0, 0, 0, "empty label"},
    {"alice@.example.nl", ADDR_INVALID, NULL, 0, 0, 0, "empty label"},
    {"alice@\xff\xfe.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "invalid domain '\\xff\\xfe.nl'"},
    {"alice@", ADDR_INVALID, NULL, 0, 0, 0, "no domain after '@'"},
    {"bare @", ADDR_INVALID, NULL, 0, 0, 0, "no domain after '@'"},
    {"Alice <alice@>", ADDR_INVALID, NULL, 0, 0, 0, "no domain after '@'"},
    {"alice@\"example\".nl", ADDR_INVALID, NULL, 0, 0, 0, "no domain"},
    {"@example.nl", ADDR_INVALID, NULL, 0, 0, 0, "empty local part"},
    {"@", ADDR_INVALID, NULL, 0, 0, 0, "empty local part"},
    {"Alice <@example.nl>", ADDR_INVALID, NULL, 0, 0, 0, "in a route"},
    {"Alice <@a.example alice@example.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "in a route"},
    {"Alice <@-a.example:alice@example.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "starts or ends with '-'"},
    /* ambiguous: two parsers could find two domains */
    {"alice@bank.nl@evil.nl", ADDR_INVALID, NULL, 0, 0, 0, "more than one '@'"},
    {"alice@bank.nl bob@evil.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "more than one '@'"},
    {"\"alice@bank.nl\"@evil.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "quoted local part"},
    {"\"Someone <someone@junk.com>\"@mydomain.com", ADDR_INVALID, NULL, 0, 0, 0,
     "quoted local part"},
    {"Alice <\"x>\"@example.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "quoted local part"},
    {"\"alice@bank.nl\" alice@evil.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "quoted local part"},
    {"alice@bank.nl <bob@evil.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "display name shows an address in bank.nl but the mailbox is in "
     "evil.nl"},
    {"support@paypal.com via Bob <bob@evil.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "display name shows an address in paypal.com"},
    {"alice@b\xc3\xbc"
     "cher.example <bob@evil.nl>",
     ADDR_INVALID, NULL, 0, 0, 0, "in xn--bcher-kva.example"},
    {"alice@bank.nl <alice>", ADDR_INVALID, NULL, 0, 0, 0,
     "mailbox is without a domain"},
    {"Alice <alice@example.nl> <bob@evil.nl>", ADDR_INVALID, NULL, 0, 0, 0,
     "unexpected '<' after an address"},
    {"Alice <alice@example.nl> Smith", ADDR_INVALID, NULL, 0, 0, 0,
     "unexpected 'Smith' after an address"},
    {"<alice@example.nl>>", ADDR_INVALID, NULL, 0, 0, 0,
     "unexpected '>' after an address"},
    {"<<alice@example.nl>>", ADDR_INVALID, NULL, 0, 0, 0,
     "unexpected '<' after '<'"},
    {"Alice <alice@example.nl>, , <", ADDR_INVALID, NULL, 0, 0, 0,
     "'<' without '>'"},
    {"alice@a.nl, \"unterminated", ADDR_INVALID, NULL, 0, 0, 0,
     "unterminated quoted string"},
    {"a@1.nl,a@2.nl,a@3.nl,a@4.nl,a@5.nl,a@6.nl,a@7.nl,a@8.nl,a@9.nl",
     ADDR_INVALID, NULL, 0, 0, 0, "more than 8 domains"},
    /* group syntax misused */
    {"Alice <alice@example.nl>; bob@example.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "';' outside a group"},
    {"a: b: c@example.nl;;", ADDR_INVALID, NULL, 0, 0, 0,
     "group inside a group"},
    {"a@example.nl: b@example.nl;", ADDR_INVALID, NULL, 0, 0, 0,
     "'@' in group name"},
    {"team: a@example.nl; b@example.nl", ADDR_INVALID, NULL, 0, 0, 0,
     "unexpected 'b' after an address"},
    {"team:; ;", ADDR_INVALID, NULL, 0, 0, 0, "';' outside a group"},
};

/* check_env - one envelope case */
static void
check_env(size_t i, const struct env_case *c)
{
	char domain[DOMAIN_SIZE], why[256] = "";
	enum addr_status st;

	memset(domain, 'x', sizeof(domain));
	st = addr_envelope(c->arg, domain, why, sizeof(why));
	if (st != c->status)
		fail_msg("env case %zu '%s': %s, expected %s (%s)", i, c->arg,
		         status_names[st], status_names[c->status], why);
	if (st == ADDR_OK) {
		if (strcmp(domain, c->domain) != 0)
			fail_msg("env case %zu '%s': domain '%s', expected "
			         "'%s'",
			         i, c->arg, domain, c->domain);
		return;
	}
	assert_string_equal(domain, "");
	if (strstr(why, c->reason) == NULL)
		fail_msg("env case %zu '%s': reason '%s' lacks '%s'", i, c->arg,
		         why, c->reason);
}

/* The MAIL FROM table. */
static void
test_envelope(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++)
		check_env(i, &env_cases[i]);
}

/* check_from_result - the counts, flags and domains of a From case */
static void
check_from_result(size_t i, const struct from_case *c,
                  const struct addr_from *out)
{
	if (out->nmailboxes != c->nmailboxes || out->ndomains != c->ndomains ||
	    out->flags != c->flags)
		fail_msg("from case %zu '%s': %d mailboxes, %d domains, flags "
		         "%#x; expected %d, %d, %#x",
		         i, c->value, out->nmailboxes, out->ndomains,
		         out->flags, c->nmailboxes, c->ndomains, c->flags);
	if (c->status == ADDR_OK) {
		if (strcmp(out->domain, c->domain) != 0)
			fail_msg("from case %zu '%s': domain '%s', expected "
			         "'%s'",
			         i, c->value, out->domain, c->domain);
		assert_string_equal(out->domains[0], out->domain);
	} else {
		assert_string_equal(out->domain, "");
	}
}

/* check_from - one From case */
static void
check_from(size_t i, const struct from_case *c)
{
	struct addr_from out;
	char why[256] = "";
	enum addr_status st;

	memset(&out, 0x55, sizeof(out));
	st = addr_header_from(c->value, &out, why, sizeof(why));
	if (st != c->status)
		fail_msg("from case %zu '%s': %s, expected %s (%s)", i,
		         c->value, status_names[st], status_names[c->status],
		         why);
	check_from_result(i, c, &out);
	if (st == ADDR_OK) {
		if (why[0] != '\0')
			fail_msg("from case %zu: why written on success: %s", i,
			         why);
	} else if (strstr(why, c->reason) == NULL) {
		fail_msg("from case %zu '%s': reason '%s' lacks '%s'", i,
		         c->value, why, c->reason);
	}
}

/* The From table. */
static void
test_from(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++)
		check_from(i, &from_cases[i]);
}

/* Several domains come back in order of appearance, without repeats. */
static void
test_from_domains(void **state)
{
	struct addr_from out;
	char why[128];

	(void) state;
	assert_int_equal(addr_header_from("a@X.nl, \"B\" <b@y.nl>, c@x.nl, "
	                                  "g: d@z.nl, e@y.nl;",
	                                  &out, why, sizeof(why)),
	                 ADDR_OK);
	assert_int_equal(out.nmailboxes, 5);
	assert_int_equal(out.ndomains, 3);
	assert_string_equal(out.domains[0], "x.nl");
	assert_string_equal(out.domains[1], "y.nl");
	assert_string_equal(out.domains[2], "z.nl");
	assert_string_equal(out.domains[3], "");
	assert_int_equal(out.flags, ADDR_FROM_GROUP);
}

/* Comments nest up to 64 deep; one more is invalid. */
static void
test_comment_depth(void **state)
{
	char value[512], why[128];
	struct addr_from out;
	size_t n = 0;

	(void) state;
	n += (size_t) snprintf(value, sizeof(value), "alice@example.nl ");
	for (int i = 0; i < 64; i++)
		value[n++] = '(';
	for (int i = 0; i < 64; i++)
		value[n++] = ')';
	value[n] = '\0';
	assert_int_equal(addr_header_from(value, &out, why, sizeof(why)),
	                 ADDR_OK);
	memmove(value + 18, value + 17, n - 17 + 1);
	value[17] = '(';
	strcat(value, ")");
	assert_int_equal(addr_header_from(value, &out, why, sizeof(why)),
	                 ADDR_INVALID);
	assert_non_null(strstr(why, "nested too deep"));
}

/* repeat - a fresh string of n copies of s */
static char *
repeat(const char *s, size_t n)
{
	size_t len = strlen(s);
	char *p = xmalloc(len * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(p + i * len, s, len);
	p[len * n] = '\0';
	return p;
}

/* Header values of 100 KB, friendly and hostile, parse in linear time. */
static void
test_large(void **state)
{
	static const struct {
		const char *unit;
		enum addr_status status;
	} cases[] = {
	    {"a@example.nl, ", ADDR_OK}, {"Alice ", ADDR_NO_DOMAIN},
	    {"\"x\" ", ADDR_NO_DOMAIN},  {"(", ADDR_INVALID},
	    {"()", ADDR_INVALID},        {"\"", ADDR_NO_DOMAIN},
	    {"<", ADDR_INVALID},         {"@", ADDR_INVALID},
	    {".", ADDR_NO_DOMAIN},       {",", ADDR_INVALID},
	    {"a:", ADDR_INVALID},        {"x@", ADDR_INVALID},
	    {"a.", ADDR_NO_DOMAIN},      {"[1]", ADDR_NO_DOMAIN},
	};
	char why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v = repeat(cases[i].unit, 100000 / strlen(cases[i].unit));
		struct addr_from out;
		enum addr_status st =
		    addr_header_from(v, &out, why, sizeof(why));

		if (st != cases[i].status)
			fail_msg("large case %zu '%s': %s (%s)", i,
			         cases[i].unit, status_names[st], why);
		free(v);
	}
}

/* A very long domain is refused, not truncated. */
static void
test_long_domain(void **state)
{
	char *label = repeat("a", 60), *v;
	struct addr_from out;
	char domain[DOMAIN_SIZE], why[128];

	(void) state;
	v = xasprintf("<x@%s.%s.%s.%s.%s>", label, label, label, label, label);
	assert_int_equal(addr_envelope(v, domain, why, sizeof(why)),
	                 ADDR_INVALID);
	assert_non_null(strstr(why, "longer than 253"));
	assert_int_equal(addr_header_from(v, &out, why, sizeof(why)),
	                 ADDR_INVALID);
	assert_non_null(strstr(why, "longer than 253"));
	free(v);
	free(label);
	label = repeat("a.", 1000);
	v = xasprintf("x@%snl", label);
	assert_int_equal(addr_header_from(v, &out, why, sizeof(why)),
	                 ADDR_INVALID);
	assert_non_null(strstr(why, "domain longer than 253 bytes"));
	assert_int_equal(addr_envelope(v, domain, why, sizeof(why)),
	                 ADDR_INVALID);
	assert_non_null(strstr(why, "domain longer than 253 bytes"));
	free(v);
	free(label);
}

/* why may be NULL or tiny; reasons are cut, never overflow. */
static void
test_why_buffers(void **state)
{
	char domain[DOMAIN_SIZE], why[8];
	struct addr_from out;

	(void) state;
	assert_int_equal(addr_envelope("<a@-x.nl>", domain, NULL, 0),
	                 ADDR_INVALID);
	assert_int_equal(addr_header_from("a@-x.nl", &out, NULL, 0),
	                 ADDR_INVALID);
	assert_int_equal(addr_header_from("undisclosed:;", &out, NULL, 0),
	                 ADDR_NO_DOMAIN);
	assert_int_equal(addr_header_from("a@-x.nl", &out, why, sizeof(why)),
	                 ADDR_INVALID);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_int_equal(addr_envelope("<>", domain, why, 1), ADDR_NULL);
	assert_string_equal(why, "");
}

/* Reasons quote input safely: control and 8-bit bytes as \xNN, cut. */
static void
test_why_excerpt(void **state)
{
	char *local = repeat("a", 500), *v;
	struct addr_from out;
	char why[512];

	(void) state;
	assert_int_equal(
	    addr_header_from("a\r\n b@x.nl <c>", &out, why, sizeof(why)),
	    ADDR_INVALID);
	assert_non_null(strstr(why, "display name shows an address in x.nl"));
	assert_int_equal(addr_header_from("\xe2\x80\xae"
	                                  "abc",
	                                  &out, why, sizeof(why)),
	                 ADDR_NO_DOMAIN);
	assert_string_equal(why, "no domain in '\\xe2\\x80\\xae"
	                         "abc'");
	v = xasprintf("%s x", local);
	assert_int_equal(addr_header_from(v, &out, why, sizeof(why)),
	                 ADDR_NO_DOMAIN);
	assert_true(strlen(why) < 100);
	assert_non_null(strstr(why, "aaa...'"));
	free(v);
	free(local);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_envelope),
	    cmocka_unit_test(test_from),
	    cmocka_unit_test(test_from_domains),
	    cmocka_unit_test(test_comment_depth),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_long_domain),
	    cmocka_unit_test(test_why_buffers),
	    cmocka_unit_test(test_why_excerpt),
	};

	printf("addr: %zu envelope cases, %zu From cases\n",
	       sizeof(env_cases) / sizeof(env_cases[0]),
	       sizeof(from_cases) / sizeof(from_cases[0]));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
