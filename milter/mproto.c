/*
 * mproto - the milter protocol's wire format, both sides.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mproto.h"
#include "util.h"

/* mproto_buf_init - an empty buffer */
void
mproto_buf_init(struct mproto_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* mproto_buf_free - release the memory; the buffer is then empty */
void
mproto_buf_free(struct mproto_buf *b)
{
	free(b->data);
	mproto_buf_init(b);
}

/* mproto_buf_consume - drop the first n bytes (n <= len) */
void
mproto_buf_consume(struct mproto_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* mproto_buf_reserve - make room for n more bytes; returns the free end */
unsigned char *
mproto_buf_reserve(struct mproto_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;

	while (cap - b->len < n)
		cap *= 2;
	if (cap != b->cap) {
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	return b->data + b->len;
}

/* mproto_add - append bytes */
static void
mproto_add(struct mproto_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(mproto_buf_reserve(b, n), p, n);
	b->len += n;
}

/* mproto_add_u32 - append a big-endian 32-bit number */
static void
mproto_add_u32(struct mproto_buf *b, uint32_t v)
{
	unsigned char n[4] = {(unsigned char) (v >> 24),
	                      (unsigned char) (v >> 16),
	                      (unsigned char) (v >> 8), (unsigned char) v};

	mproto_add(b, n, sizeof(n));
}

/* mproto_add_str - append a string and its NUL */
static void
mproto_add_str(struct mproto_buf *b, const char *s)
{
	mproto_add(b, s, strlen(s) + 1);
}

/* mproto_begin - start a packet; returns the offset of its length field */
static size_t
mproto_begin(struct mproto_buf *b, unsigned char code)
{
	size_t at = b->len;

	mproto_add_u32(b, 0);
	mproto_add(b, &code, 1);
	return at;
}

/* mproto_end - fill in the length of the packet started at "at" */
static void
mproto_end(struct mproto_buf *b, size_t at)
{
	size_t n = b->len - at - 4;
	unsigned char *p = b->data + at;

	p[0] = (unsigned char) (n >> 24);
	p[1] = (unsigned char) (n >> 16);
	p[2] = (unsigned char) (n >> 8);
	p[3] = (unsigned char) n;
}

/* mproto_put_raw - one packet with arbitrary data (tests, replies) */
void
mproto_put_raw(struct mproto_buf *b, unsigned char code, const void *data,
               size_t len)
{
	size_t at = mproto_begin(b, code);

	mproto_add(b, data, len);
	mproto_end(b, at);
}

/* mproto_put_empty - a command without data (EOH, EOB, DATA, ABORT...) */
void
mproto_put_empty(struct mproto_buf *b, unsigned char code)
{
	mproto_put_raw(b, code, NULL, 0);
}

/* mproto_put_optneg - SMFIC_OPTNEG: version, actions, protocol steps */
void
mproto_put_optneg(struct mproto_buf *b, uint32_t version, uint32_t actions,
                  uint32_t protocol)
{
	size_t at = mproto_begin(b, MPROTO_C_OPTNEG);

	mproto_add_u32(b, version);
	mproto_add_u32(b, actions);
	mproto_add_u32(b, protocol);
	mproto_end(b, at);
}

/* mproto_put_macro - SMFIC_MACRO for "code": n name/value pairs */
void
mproto_put_macro(struct mproto_buf *b, unsigned char code,
                 const char *const *nv, size_t n)
{
	size_t at = mproto_begin(b, MPROTO_C_MACRO);

	mproto_add(b, &code, 1);
	for (size_t i = 0; i < 2 * n; i++)
		mproto_add_str(b, nv[i]);
	mproto_end(b, at);
}

/* mproto_put_connect - SMFIC_CONNECT: host name, family, port, address */
void
mproto_put_connect(struct mproto_buf *b, const char *host, char family,
                   uint16_t port, const char *addr)
{
	size_t at = mproto_begin(b, MPROTO_C_CONNECT);
	unsigned char p[2] = {(unsigned char) (port >> 8),
	                      (unsigned char) port};

	mproto_add_str(b, host);
	mproto_add(b, &family, 1);
	if (family != MPROTO_FAMILY_UNKNOWN) {
		mproto_add(b, p, sizeof(p));
		mproto_add_str(b, addr);
	}
	mproto_end(b, at);
}

/* mproto_put_string - a command with one string (HELO, UNKNOWN) */
void
mproto_put_string(struct mproto_buf *b, unsigned char code, const char *s)
{
	size_t at = mproto_begin(b, code);

	mproto_add_str(b, s);
	mproto_end(b, at);
}

/* mproto_put_args - MAIL or RCPT: "<address>" then ESMTP arguments */
void
mproto_put_args(struct mproto_buf *b, unsigned char code,
                const char *const *argv, size_t argc)
{
	size_t at = mproto_begin(b, code);

	for (size_t i = 0; i < argc; i++)
		mproto_add_str(b, argv[i]);
	mproto_end(b, at);
}

/* mproto_put_header - SMFIC_HEADER: name and value */
void
mproto_put_header(struct mproto_buf *b, const char *name, const char *value)
{
	mproto_put_pair(b, MPROTO_C_HEADER, name, value);
}

/* mproto_put_pair - a packet of two strings */
void
mproto_put_pair(struct mproto_buf *b, unsigned char code, const char *name,
                const char *value)
{
	size_t at = mproto_begin(b, code);

	mproto_add_str(b, name);
	mproto_add_str(b, value);
	mproto_end(b, at);
}

/* mproto_put_indexed - INSHEADER, CHGHEADER: index, name, value */
void
mproto_put_indexed(struct mproto_buf *b, unsigned char code, uint32_t index,
                   const char *name, const char *value)
{
	size_t at = mproto_begin(b, code);

	mproto_add_u32(b, index);
	mproto_add_str(b, name);
	mproto_add_str(b, value);
	mproto_end(b, at);
}

/* mproto_put_optneg_reply - the milter's SMFIC_OPTNEG with macro lists */
void
mproto_put_optneg_reply(struct mproto_buf *b, uint32_t version,
                        uint32_t actions, uint32_t protocol,
                        const char *const macros[MPROTO_M_COUNT])
{
	size_t at = mproto_begin(b, MPROTO_C_OPTNEG);

	mproto_add_u32(b, version);
	mproto_add_u32(b, actions);
	mproto_add_u32(b, protocol);
	for (uint32_t stage = 0; stage < MPROTO_M_COUNT; stage++) {
		if (macros[stage] == NULL)
			continue;
		mproto_add_u32(b, stage);
		mproto_add_str(b, macros[stage]);
	}
	mproto_end(b, at);
}

/* mproto_put_body - SMFIC_BODY; len must be 1..MPROTO_CHUNK */
void
mproto_put_body(struct mproto_buf *b, const void *data, size_t len)
{
	if (len == 0 || len > MPROTO_CHUNK)
		panic("mproto_put_body: chunk of %zu bytes", len);
	mproto_put_raw(b, MPROTO_C_BODY, data, len);
}

/* mproto_get_u32 - a big-endian 32-bit number */
static uint32_t
mproto_get_u32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
	       (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

/* mproto_split - the first complete packet of buf[0..len) */
int
mproto_split(const unsigned char *buf, size_t len, size_t max,
             struct mproto_packet *pkt, size_t *used, char *why, size_t whylen)
{
	uint32_t n;

	if (len < 4)
		return 0;
	n = mproto_get_u32(buf);
	if (n == 0)
		return util_why(why, whylen, "packet of length 0");
	if (n > max)
		return util_why(why, whylen, "packet of %lu bytes, limit %zu",
		                (unsigned long) n, max);
	if (len - 4 < n)
		return 0;
	pkt->code = buf[4];
	pkt->data = buf + 5;
	pkt->len = n - 1;
	*used = 4 + (size_t) n;
	return 1;
}

/* mproto_strings - split packet data into NUL-terminated strings */
int
mproto_strings(const unsigned char *data, size_t len, const char **out,
               size_t n)
{
	size_t i = 0, count = 0;

	while (i < len) {
		const unsigned char *end = memchr(data + i, '\0', len - i);

		if (end == NULL)
			return -1;
		if (count < n)
			out[count] = (const char *) data + i;
		count++;
		i = (size_t) (end - data) + 1;
	}
	return (int) count;
}

/* mproto_want_strings - exactly n strings after "skip" bytes of numbers */
static int
mproto_want_strings(const struct mproto_packet *pkt, size_t skip,
                    const char **out, int n, char *why, size_t whylen)
{
	int got;

	if (pkt->len < skip)
		return util_why(why, whylen, "'%c' packet too short",
		                pkt->code);
	got =
	    mproto_strings(pkt->data + skip, pkt->len - skip, out, (size_t) n);
	if (got < 0)
		return util_why(why, whylen, "'%c' packet: unterminated string",
		                pkt->code);
	if (got != n)
		return util_why(why, whylen,
		                "'%c' packet: %d strings, expected %d",
		                pkt->code, got, n);
	return 0;
}

/* mproto_parse_strings - replies made of one or two strings */
static int
mproto_parse_strings(const struct mproto_packet *pkt, struct mproto_reply *r,
                     char *why, size_t whylen)
{
	const char *s[2] = {NULL, NULL};
	int got;

	switch (pkt->code) {
	case MPROTO_R_ADDHEADER:
		if (mproto_want_strings(pkt, 0, s, 2, why, whylen) < 0)
			return -1;
		r->name = s[0];
		r->value = s[1];
		return 0;
	case MPROTO_R_INSHEADER:
	case MPROTO_R_CHGHEADER:
		if (mproto_want_strings(pkt, 4, s, 2, why, whylen) < 0)
			return -1;
		r->index = mproto_get_u32(pkt->data);
		r->name = s[0];
		r->value = s[1];
		return 0;
	case MPROTO_R_ADDRCPT:
	case MPROTO_R_DELRCPT:
		if (mproto_want_strings(pkt, 0, s, 1, why, whylen) < 0)
			return -1;
		r->name = s[0];
		return 0;
	default: /* CHGFROM, ADDRCPT_PAR: an address, optional arguments */
		got = mproto_strings(pkt->data, pkt->len, s, 2);
		if (got < 1 || got > 2)
			return util_why(why, whylen, "malformed '%c' reply",
			                pkt->code);
		r->name = s[0];
		r->value = s[1];
		return 0;
	}
}

/*
 * mproto_smtp_reply_ok - "4xy " or "5xy-" with an enhanced code of the same
 * class when there is one: what Postfix accepts (milter8.c), anything else
 * makes it treat the milter as broken.
 */
static int
mproto_smtp_reply_ok(const char *t)
{
	return (t[0] == '4' || t[0] == '5') && isdigit((unsigned char) t[1]) &&
	       isdigit((unsigned char) t[2]) && (t[3] == ' ' || t[3] == '-') &&
	       t[4] == t[0];
}

/* mproto_parse_text - REPLYCODE and QUARANTINE: one terminated string */
static int
mproto_parse_text(const struct mproto_packet *pkt, struct mproto_reply *r,
                  char *why, size_t whylen)
{
	const char *s[1];

	if (mproto_want_strings(pkt, 0, s, 1, why, whylen) < 0)
		return -1;
	r->text = s[0];
	r->len = strlen(s[0]);
	if (pkt->code == MPROTO_R_REPLYCODE && !mproto_smtp_reply_ok(r->text))
		return util_why(why, whylen, "malformed reply code '%.40s'",
		                r->text);
	return 0;
}

/* mproto_parse_reply - decode a reply packet, checking its form */
int
mproto_parse_reply(const struct mproto_packet *pkt, struct mproto_reply *r,
                   char *why, size_t whylen)
{
	memset(r, 0, sizeof(*r));
	r->code = pkt->code;
	switch (pkt->code) {
	case MPROTO_R_ACCEPT:
	case MPROTO_R_CONTINUE:
	case MPROTO_R_DISCARD:
	case MPROTO_R_REJECT:
	case MPROTO_R_TEMPFAIL:
	case MPROTO_R_PROGRESS:
	case MPROTO_R_SKIP:
	case MPROTO_R_SHUTDOWN:
	case MPROTO_R_CONN_FAIL:
		if (pkt->len != 0)
			return util_why(why, whylen,
			                "'%c' reply with %zu data bytes",
			                pkt->code, pkt->len);
		return 0;
	case MPROTO_R_REPLYCODE:
	case MPROTO_R_QUARANTINE:
		return mproto_parse_text(pkt, r, why, whylen);
	case MPROTO_R_REPLBODY:
		r->text = (const char *) pkt->data;
		r->len = pkt->len;
		return 0;
	case MPROTO_R_ADDHEADER:
	case MPROTO_R_INSHEADER:
	case MPROTO_R_CHGHEADER:
	case MPROTO_R_ADDRCPT:
	case MPROTO_R_DELRCPT:
	case MPROTO_R_ADDRCPT_PAR:
	case MPROTO_R_CHGFROM:
		return mproto_parse_strings(pkt, r, why, whylen);
	default:
		return util_why(why, whylen, "unknown reply code 0x%02x",
		                pkt->code);
	}
}

/* mproto_parse_optneg - decode the milter's SMFIC_OPTNEG */
int
mproto_parse_optneg(const struct mproto_packet *pkt, struct mproto_optneg *o,
                    char *why, size_t whylen)
{
	size_t i = 12;

	memset(o, 0, sizeof(*o));
	if (pkt->code != MPROTO_C_OPTNEG)
		return util_why(why, whylen,
		                "'%c' instead of the option negotiation",
		                pkt->code);
	if (pkt->len < 12)
		return util_why(why, whylen, "option negotiation too short");
	o->version = mproto_get_u32(pkt->data);
	o->actions = mproto_get_u32(pkt->data + 4);
	o->protocol = mproto_get_u32(pkt->data + 8);
	while (i < pkt->len) {
		uint32_t stage;
		const unsigned char *end;

		if (pkt->len - i < 5)
			return util_why(why, whylen,
			                "truncated macro list in negotiation");
		stage = mproto_get_u32(pkt->data + i);
		i += 4;
		end = memchr(pkt->data + i, '\0', pkt->len - i);
		if (end == NULL)
			return util_why(
			    why, whylen,
			    "unterminated macro list in negotiation");
		if (stage < MPROTO_M_COUNT)
			o->macros[stage] = (const char *) pkt->data + i;
		i = (size_t) (end - pkt->data) + 1;
	}
	return 0;
}

/* mproto_command_strings - exactly n strings, or at least one when n is 0 */
static int
mproto_command_strings(const struct mproto_packet *pkt, size_t skip,
                       const char **out, int n, char *why, size_t whylen)
{
	int got;

	if (n > 0)
		return mproto_want_strings(pkt, skip, out, n, why, whylen);
	got = mproto_strings(pkt->data + skip, pkt->len - skip, out,
	                     MPROTO_MAX_ARGS);
	if (got < 1 || got > MPROTO_MAX_ARGS)
		return util_why(why, whylen, "'%c' command with %d strings",
		                pkt->code, got);
	return got;
}

/*
 * mproto_parse_connect - host name, family, and for a known family a
 * port and an address.
 */
static int
mproto_parse_connect(const struct mproto_packet *pkt, struct mproto_command *c,
                     char *why, size_t whylen)
{
	const unsigned char *end = memchr(pkt->data, '\0', pkt->len);
	const unsigned char *p;
	size_t rest;

	if (end == NULL || end + 1 >= pkt->data + pkt->len)
		return util_why(why, whylen, "malformed connect command");
	c->host = (const char *) pkt->data;
	c->family = (char) end[1];
	c->addr = "";
	p = end + 2;
	rest = pkt->len - (size_t) (p - pkt->data);
	if (c->family == MPROTO_FAMILY_UNKNOWN)
		return rest == 0 ? 0
		                 : util_why(why, whylen,
		                            "connect command: bytes after an "
		                            "unknown family");
	if (rest < 3 || memchr(p + 2, '\0', rest - 2) != p + rest - 1)
		return util_why(why, whylen, "malformed connect address");
	c->port = (uint16_t) (p[0] << 8 | p[1]);
	c->addr = (const char *) p + 2;
	return 0;
}

/* mproto_parse_command - decode an MTA command, checking its form */
int
mproto_parse_command(const struct mproto_packet *pkt, struct mproto_command *c,
                     char *why, size_t whylen)
{
	const char *s[2] = {NULL, NULL};
	int got;

	memset(c, 0, sizeof(*c));
	c->code = pkt->code;
	c->data = pkt->data;
	c->len = pkt->len;
	switch (pkt->code) {
	case MPROTO_C_OPTNEG:
		if (pkt->len < 12)
			return util_why(why, whylen,
			                "option negotiation too short");
		c->version = mproto_get_u32(pkt->data);
		c->actions = mproto_get_u32(pkt->data + 4);
		c->protocol = mproto_get_u32(pkt->data + 8);
		return 0;
	case MPROTO_C_MACRO:
		if (pkt->len < 1 ||
		    mproto_strings(pkt->data + 1, pkt->len - 1, NULL, 0) < 0)
			return util_why(why, whylen, "malformed macro command");
		c->stage = pkt->data[0];
		c->data = pkt->data + 1;
		c->len = pkt->len - 1;
		return 0;
	case MPROTO_C_CONNECT:
		return mproto_parse_connect(pkt, c, why, whylen);
	case MPROTO_C_HELO:
	case MPROTO_C_UNKNOWN:
		if (mproto_command_strings(pkt, 0, s, 1, why, whylen) < 0)
			return -1;
		c->name = s[0];
		return 0;
	case MPROTO_C_MAIL:
	case MPROTO_C_RCPT:
		if ((got = mproto_command_strings(pkt, 0, c->argv, 0, why,
		                                  whylen)) < 0)
			return -1;
		c->argc = (size_t) got;
		c->argv[got] = NULL;
		return 0;
	case MPROTO_C_HEADER:
		if (mproto_command_strings(pkt, 0, s, 2, why, whylen) < 0)
			return -1;
		c->name = s[0];
		c->value = s[1];
		return 0;
	case MPROTO_C_BODY:
	case MPROTO_C_BODYEOB:
		return 0;
	case MPROTO_C_ABORT:
	case MPROTO_C_DATA:
	case MPROTO_C_EOH:
	case MPROTO_C_QUIT:
	case MPROTO_C_QUIT_NC:
		return pkt->len == 0
		           ? 0
		           : util_why(why, whylen,
		                      "'%c' command with %zu data bytes",
		                      pkt->code, pkt->len);
	default:
		return util_why(why, whylen, "unknown command code 0x%02x",
		                pkt->code);
	}
}

/* mproto_reply_name - "continue", "insheader", ...; "?" if unknown */
const char *
mproto_reply_name(unsigned char code)
{
	static const struct {
		unsigned char code;
		const char *name;
	} names[] = {
	    {MPROTO_R_ADDRCPT, "addrcpt"},
	    {MPROTO_R_DELRCPT, "delrcpt"},
	    {MPROTO_R_ADDRCPT_PAR, "addrcpt_par"},
	    {MPROTO_R_SHUTDOWN, "shutdown"},
	    {MPROTO_R_ACCEPT, "accept"},
	    {MPROTO_R_REPLBODY, "replbody"},
	    {MPROTO_R_CONTINUE, "continue"},
	    {MPROTO_R_DISCARD, "discard"},
	    {MPROTO_R_CHGFROM, "chgfrom"},
	    {MPROTO_R_CONN_FAIL, "connfail"},
	    {MPROTO_R_ADDHEADER, "addheader"},
	    {MPROTO_R_INSHEADER, "insheader"},
	    {MPROTO_R_SETSYMLIST, "setsymlist"},
	    {MPROTO_R_CHGHEADER, "chgheader"},
	    {MPROTO_R_PROGRESS, "progress"},
	    {MPROTO_R_QUARANTINE, "quarantine"},
	    {MPROTO_R_REJECT, "reject"},
	    {MPROTO_R_SKIP, "skip"},
	    {MPROTO_R_TEMPFAIL, "tempfail"},
	    {MPROTO_R_REPLYCODE, "replycode"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "?";
}

/* mproto_command_name - "connect", "helo", "mail", ...; "?" if unknown */
const char *
mproto_command_name(unsigned char code)
{
	static const struct {
		unsigned char code;
		const char *name;
	} names[] = {
	    {MPROTO_C_ABORT, "abort"},     {MPROTO_C_BODY, "body"},
	    {MPROTO_C_CONNECT, "connect"}, {MPROTO_C_MACRO, "macro"},
	    {MPROTO_C_BODYEOB, "eom"},     {MPROTO_C_HELO, "helo"},
	    {MPROTO_C_QUIT_NC, "quit_nc"}, {MPROTO_C_HEADER, "header"},
	    {MPROTO_C_MAIL, "mail"},       {MPROTO_C_EOH, "eoh"},
	    {MPROTO_C_OPTNEG, "optneg"},   {MPROTO_C_QUIT, "quit"},
	    {MPROTO_C_RCPT, "rcpt"},       {MPROTO_C_DATA, "data"},
	    {MPROTO_C_UNKNOWN, "unknown"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "?";
}
