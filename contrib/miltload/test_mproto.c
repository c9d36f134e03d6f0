/*
 * test_mproto - the milter wire format of miltload: its constants are
 * libmilter's, what it encodes splits and decodes back, and malformed
 * packets are refused with a reason instead of being misread.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <libmilter/mfapi.h> /* SMFIM_*; includes mfdef.h */

#include "mproto.h"

/* Each constant next to libmilter's. */
static const struct {
	const char *name;
	unsigned long ours;
	unsigned long theirs;
} constants[] = {
#define SAME(ours, theirs)                                                     \
	{                                                                      \
#ours, (unsigned long) (ours), (unsigned long) (theirs)        \
	}
    SAME(MPROTO_VERSION, SMFI_PROT_VERSION),
    SAME(MPROTO_CHUNK, MILTER_CHUNK_SIZE),
    SAME(MPROTO_C_ABORT, SMFIC_ABORT),
    SAME(MPROTO_C_BODY, SMFIC_BODY),
    SAME(MPROTO_C_CONNECT, SMFIC_CONNECT),
    SAME(MPROTO_C_MACRO, SMFIC_MACRO),
    SAME(MPROTO_C_BODYEOB, SMFIC_BODYEOB),
    SAME(MPROTO_C_HELO, SMFIC_HELO),
    SAME(MPROTO_C_QUIT_NC, SMFIC_QUIT_NC),
    SAME(MPROTO_C_HEADER, SMFIC_HEADER),
    SAME(MPROTO_C_MAIL, SMFIC_MAIL),
    SAME(MPROTO_C_EOH, SMFIC_EOH),
    SAME(MPROTO_C_OPTNEG, SMFIC_OPTNEG),
    SAME(MPROTO_C_QUIT, SMFIC_QUIT),
    SAME(MPROTO_C_RCPT, SMFIC_RCPT),
    SAME(MPROTO_C_DATA, SMFIC_DATA),
    SAME(MPROTO_C_UNKNOWN, SMFIC_UNKNOWN),
    SAME(MPROTO_R_ADDRCPT, SMFIR_ADDRCPT),
    SAME(MPROTO_R_DELRCPT, SMFIR_DELRCPT),
    SAME(MPROTO_R_ADDRCPT_PAR, SMFIR_ADDRCPT_PAR),
    SAME(MPROTO_R_SHUTDOWN, SMFIR_SHUTDOWN),
    SAME(MPROTO_R_ACCEPT, SMFIR_ACCEPT),
    SAME(MPROTO_R_REPLBODY, SMFIR_REPLBODY),
    SAME(MPROTO_R_CONTINUE, SMFIR_CONTINUE),
    SAME(MPROTO_R_DISCARD, SMFIR_DISCARD),
    SAME(MPROTO_R_CHGFROM, SMFIR_CHGFROM),
    SAME(MPROTO_R_CONN_FAIL, SMFIR_CONN_FAIL),
    SAME(MPROTO_R_ADDHEADER, SMFIR_ADDHEADER),
    SAME(MPROTO_R_INSHEADER, SMFIR_INSHEADER),
    SAME(MPROTO_R_SETSYMLIST, SMFIR_SETSYMLIST),
    SAME(MPROTO_R_CHGHEADER, SMFIR_CHGHEADER),
    SAME(MPROTO_R_PROGRESS, SMFIR_PROGRESS),
    SAME(MPROTO_R_QUARANTINE, SMFIR_QUARANTINE),
    SAME(MPROTO_R_REJECT, SMFIR_REJECT),
    SAME(MPROTO_R_SKIP, SMFIR_SKIP),
    SAME(MPROTO_R_TEMPFAIL, SMFIR_TEMPFAIL),
    SAME(MPROTO_R_REPLYCODE, SMFIR_REPLYCODE),
    SAME(MPROTO_F_ADDHDRS, SMFIF_ADDHDRS),
    SAME(MPROTO_F_CHGBODY, SMFIF_CHGBODY),
    SAME(MPROTO_F_ADDRCPT, SMFIF_ADDRCPT),
    SAME(MPROTO_F_DELRCPT, SMFIF_DELRCPT),
    SAME(MPROTO_F_CHGHDRS, SMFIF_CHGHDRS),
    SAME(MPROTO_F_QUARANTINE, SMFIF_QUARANTINE),
    SAME(MPROTO_F_CHGFROM, SMFIF_CHGFROM),
    SAME(MPROTO_F_ADDRCPT_PAR, SMFIF_ADDRCPT_PAR),
    SAME(MPROTO_F_SETSYMLIST, SMFIF_SETSYMLIST),
    SAME(MPROTO_P_NOCONNECT, SMFIP_NOCONNECT),
    SAME(MPROTO_P_NOHELO, SMFIP_NOHELO),
    SAME(MPROTO_P_NOMAIL, SMFIP_NOMAIL),
    SAME(MPROTO_P_NORCPT, SMFIP_NORCPT),
    SAME(MPROTO_P_NOBODY, SMFIP_NOBODY),
    SAME(MPROTO_P_NOHDRS, SMFIP_NOHDRS),
    SAME(MPROTO_P_NOEOH, SMFIP_NOEOH),
    SAME(MPROTO_P_NR_HDR, SMFIP_NR_HDR),
    SAME(MPROTO_P_NOUNKNOWN, SMFIP_NOUNKNOWN),
    SAME(MPROTO_P_NODATA, SMFIP_NODATA),
    SAME(MPROTO_P_SKIP, SMFIP_SKIP),
    SAME(MPROTO_P_RCPT_REJ, SMFIP_RCPT_REJ),
    SAME(MPROTO_P_NR_CONN, SMFIP_NR_CONN),
    SAME(MPROTO_P_NR_HELO, SMFIP_NR_HELO),
    SAME(MPROTO_P_NR_MAIL, SMFIP_NR_MAIL),
    SAME(MPROTO_P_NR_RCPT, SMFIP_NR_RCPT),
    SAME(MPROTO_P_NR_DATA, SMFIP_NR_DATA),
    SAME(MPROTO_P_NR_UNKN, SMFIP_NR_UNKN),
    SAME(MPROTO_P_NR_EOH, SMFIP_NR_EOH),
    SAME(MPROTO_P_NR_BODY, SMFIP_NR_BODY),
    SAME(MPROTO_P_HDR_LEADSPC, SMFIP_HDR_LEADSPC),
    SAME(MPROTO_POSTFIX_ACTIONS, SMFI_CURR_ACTS),
    SAME(MPROTO_POSTFIX_PROTOCOL, SMFI_CURR_PROT),
    SAME(MPROTO_FAMILY_UNKNOWN, SMFIA_UNKNOWN),
    SAME(MPROTO_FAMILY_UNIX, SMFIA_UNIX),
    SAME(MPROTO_FAMILY_INET, SMFIA_INET),
    SAME(MPROTO_FAMILY_INET6, SMFIA_INET6),
    SAME(MPROTO_M_CONNECT, SMFIM_CONNECT),
    SAME(MPROTO_M_HELO, SMFIM_HELO),
    SAME(MPROTO_M_ENVFROM, SMFIM_ENVFROM),
    SAME(MPROTO_M_ENVRCPT, SMFIM_ENVRCPT),
    SAME(MPROTO_M_DATA, SMFIM_DATA),
    SAME(MPROTO_M_EOM, SMFIM_EOM),
    SAME(MPROTO_M_EOH, SMFIM_EOH),
#undef SAME
};

/* test_constants - every constant is libmilter's */
static void
test_constants(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
		if (constants[i].ours != constants[i].theirs)
			fail_msg("%s is 0x%lx, libmilter says 0x%lx",
			         constants[i].name, constants[i].ours,
			         constants[i].theirs);
}

/* split_one - the only packet in b; its code and data */
static struct mproto_packet
split_one(const struct mproto_buf *b)
{
	struct mproto_packet pkt;
	size_t used = 0;
	char why[128];

	assert_int_equal(mproto_split(b->data, b->len, MPROTO_MAX_PACKET, &pkt,
	                              &used, why, sizeof(why)),
	                 1);
	assert_int_equal(used, b->len);
	return pkt;
}

/* test_encode_bytes - exact wire bytes of commands Postfix sends */
static void
test_encode_bytes(void **state)
{
	static const unsigned char optneg[] = {
	    0, 0, 0, 13, 'O', 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff};
	static const unsigned char connect[] = {
	    0,    0,   0,   18,  'C', 'h', '.', 't', 0,   '4', 0x12,
	    0x67, '1', '2', '7', '.', '0', '.', '0', '.', '1', 0};
	struct mproto_buf b;

	(void) state;
	mproto_buf_init(&b);
	mproto_put_optneg(&b, 6, MPROTO_POSTFIX_ACTIONS,
	                  MPROTO_POSTFIX_PROTOCOL);
	assert_int_equal(b.len, sizeof(optneg));
	assert_memory_equal(b.data, optneg, sizeof(optneg));
	b.len = 0;
	mproto_put_connect(&b, "h.t", MPROTO_FAMILY_INET, 4711, "127.0.0.1");
	assert_int_equal(b.len, sizeof(connect));
	assert_memory_equal(b.data, connect, sizeof(connect));
	b.len = 0;
	mproto_put_connect(&b, "h.t", MPROTO_FAMILY_UNKNOWN, 0, NULL);
	assert_int_equal(b.len, 4 + 1 + 4 + 1);
	mproto_buf_free(&b);
}

/* test_roundtrip_commands - encode, split, read back the strings */
static void
test_roundtrip_commands(void **state)
{
	const char *nv[] = {"i", "4F2A", "{auth_authen}", "bob"};
	const char *args[] = {"<a@good.test>", "SIZE=10", "BODY=8BITMIME"};
	const char *s[4];
	struct mproto_packet pkt;
	struct mproto_buf b;

	(void) state;
	mproto_buf_init(&b);
	mproto_put_macro(&b, MPROTO_C_MAIL, nv, 2);
	pkt = split_one(&b);
	assert_int_equal(pkt.code, MPROTO_C_MACRO);
	assert_int_equal(pkt.data[0], MPROTO_C_MAIL);
	assert_int_equal(mproto_strings(pkt.data + 1, pkt.len - 1, s, 4), 4);
	assert_string_equal(s[2], "{auth_authen}");
	assert_string_equal(s[3], "bob");
	b.len = 0;
	mproto_put_args(&b, MPROTO_C_MAIL, args, 3);
	pkt = split_one(&b);
	assert_int_equal(mproto_strings(pkt.data, pkt.len, s, 4), 3);
	assert_string_equal(s[2], "BODY=8BITMIME");
	b.len = 0;
	mproto_put_header(&b, "Subject", "\xe9t\xe9 \xa0");
	pkt = split_one(&b);
	assert_int_equal(pkt.code, MPROTO_C_HEADER);
	assert_int_equal(mproto_strings(pkt.data, pkt.len, s, 4), 2);
	assert_string_equal(s[1], "\xe9t\xe9 \xa0");
	mproto_buf_free(&b);
}

/* test_body_chunk - a full-size chunk keeps its bytes, NULs included */
static void
test_body_chunk(void **state)
{
	static unsigned char chunk[MPROTO_CHUNK];
	struct mproto_packet pkt;
	struct mproto_buf b;

	(void) state;
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (unsigned char) (i * 7);
	mproto_buf_init(&b);
	mproto_put_body(&b, chunk, sizeof(chunk));
	pkt = split_one(&b);
	assert_int_equal(pkt.code, MPROTO_C_BODY);
	assert_int_equal(pkt.len, sizeof(chunk));
	assert_memory_equal(pkt.data, chunk, sizeof(chunk));
	mproto_buf_free(&b);
}

/* parse - one reply packet with data through mproto_parse_reply */
static int
parse(unsigned char code, const void *data, size_t len, struct mproto_reply *r,
      struct mproto_buf *b)
{
	struct mproto_packet pkt;
	char why[128];

	b->len = 0;
	mproto_put_raw(b, code, data, len);
	pkt = split_one(b);
	return mproto_parse_reply(&pkt, r, why, sizeof(why));
}

/* test_roundtrip_replies - the replies a milter sends, decoded */
static void
test_roundtrip_replies(void **state)
{
	static const char ins[] = "\0\0\0\1DKIM-Signature\0v=1; a=rsa-sha256";
	static const char add[] = "X-Relaygate-Status\0tagged";
	static const char code[] = "451 4.7.1 good.test: try later";
	struct mproto_reply r;
	struct mproto_buf b;

	(void) state;
	mproto_buf_init(&b);
	assert_int_equal(parse('i', ins, sizeof(ins), &r, &b), 0);
	assert_int_equal(r.index, 1);
	assert_string_equal(r.name, "DKIM-Signature");
	assert_string_equal(r.value, "v=1; a=rsa-sha256");
	assert_int_equal(parse('m', ins, sizeof(ins), &r, &b), 0);
	assert_int_equal(parse('h', add, sizeof(add), &r, &b), 0);
	assert_string_equal(r.value, "tagged");
	assert_int_equal(parse('y', code, sizeof(code), &r, &b), 0);
	assert_string_equal(r.text, code);
	assert_int_equal(parse('c', NULL, 0, &r, &b), 0);
	assert_int_equal(r.code, MPROTO_R_CONTINUE);
	assert_int_equal(parse('e', "<a@b>", 6, &r, &b), 0);
	assert_string_equal(r.name, "<a@b>");
	assert_null(r.value);
	assert_int_equal(parse('b', "x\0y", 3, &r, &b), 0);
	assert_int_equal(r.len, 3);
	mproto_buf_free(&b);
}

/* test_malformed_replies - refused, never misread */
static void
test_malformed_replies(void **state)
{
	struct mproto_reply r;
	struct mproto_buf b;

	(void) state;
	mproto_buf_init(&b);
	assert_int_equal(parse('c', "x", 1, &r, &b), -1);         /* data */
	assert_int_equal(parse('i', "\0\0", 2, &r, &b), -1);      /* short */
	assert_int_equal(parse('i', "\0\0\0\0N", 5, &r, &b), -1); /* unterm. */
	assert_int_equal(parse('i', "\0\0\0\0N\0", 6, &r, &b), -1); /* 1 str */
	assert_int_equal(parse('h', "N\0V\0W\0", 6, &r, &b), -1);   /* 3 str */
	assert_int_equal(parse('y', "250 ok", 7, &r, &b), -1); /* not 4/5 */
	assert_int_equal(parse('y', "451 5.7.1 x", 12, &r, &b), -1);
	assert_int_equal(parse('y', "45", 3, &r, &b), -1);
	assert_int_equal(parse('y', "451 4.7.1", 9, &r, &b), -1); /* no NUL */
	assert_int_equal(parse('Z', NULL, 0, &r, &b), -1);        /* unknown */
	assert_int_equal(parse('e', NULL, 0, &r, &b), -1);        /* empty */
	mproto_buf_free(&b);
}

/* test_split - partial input waits, impossible lengths are refused */
static void
test_split(void **state)
{
	static const unsigned char zero[] = {0, 0, 0, 0, 'c'};
	static const unsigned char huge[] = {0, 0x10, 0, 0, 'c'};
	static const unsigned char two[] = {0, 0, 0, 1, 'c', 0, 0, 0, 1, 'a'};
	struct mproto_packet pkt;
	size_t used = 0;
	char why[128] = "";

	(void) state;
	assert_int_equal(mproto_split(two, 3, 100, &pkt, &used, why, 128), 0);
	assert_int_equal(mproto_split(two, 4, 100, &pkt, &used, why, 128), 0);
	assert_int_equal(
	    mproto_split(two, sizeof(two), 100, &pkt, &used, why, 128), 1);
	assert_int_equal(used, 5);
	assert_int_equal(pkt.code, 'c');
	assert_int_equal(mproto_split(two + used, sizeof(two) - used, 100, &pkt,
	                              &used, why, 128),
	                 1);
	assert_int_equal(pkt.code, 'a');
	assert_int_equal(
	    mproto_split(zero, sizeof(zero), 100, &pkt, &used, why, 128), -1);
	assert_non_null(strstr(why, "length 0"));
	assert_int_equal(mproto_split(huge, sizeof(huge), MPROTO_MAX_PACKET,
	                              &pkt, &used, why, 128),
	                 -1);
}

/* test_optneg - the milter's answer with macro lists, and broken ones */
static void
test_optneg(void **state)
{
	static const unsigned char good[] = {
	    0, 0, 0,   6, 0,   0,   0,   0x31, 0,   0, 0x02, 0x08,
	    0, 0, 0,   2, 'i', ' ', '{', 'a',  '}', 0, 0,    0,
	    0, 9, 'x', 0, 0,   0,   0,   5,    'i', 0};
	struct mproto_packet pkt = {MPROTO_C_OPTNEG, good, sizeof(good)};
	struct mproto_optneg o;
	char why[128];

	(void) state;
	assert_int_equal(mproto_parse_optneg(&pkt, &o, why, sizeof(why)), 0);
	assert_int_equal(o.version, 6);
	assert_int_equal(o.actions, 0x31);
	assert_int_equal(o.protocol, 0x208);
	assert_string_equal(o.macros[MPROTO_M_ENVFROM], "i {a}");
	assert_string_equal(o.macros[MPROTO_M_EOM], "i");
	assert_null(o.macros[MPROTO_M_CONNECT]); /* stage 9 was ignored */
	pkt.len = 11;
	assert_int_equal(mproto_parse_optneg(&pkt, &o, why, sizeof(why)), -1);
	pkt.len = 14; /* a stage number cut short */
	assert_int_equal(mproto_parse_optneg(&pkt, &o, why, sizeof(why)), -1);
	pkt.len = 20; /* a list without its NUL */
	assert_int_equal(mproto_parse_optneg(&pkt, &o, why, sizeof(why)), -1);
	pkt.len = sizeof(good);
	pkt.code = MPROTO_R_CONTINUE;
	assert_int_equal(mproto_parse_optneg(&pkt, &o, why, sizeof(why)), -1);
}

/* test_names - names used in the script output */
static void
test_names(void **state)
{
	(void) state;
	assert_string_equal(mproto_reply_name('i'), "insheader");
	assert_string_equal(mproto_reply_name('y'), "replycode");
	assert_string_equal(mproto_reply_name('Z'), "?");
	assert_string_equal(mproto_command_name('E'), "eom");
	assert_string_equal(mproto_command_name('L'), "header");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constants),
	    cmocka_unit_test(test_encode_bytes),
	    cmocka_unit_test(test_roundtrip_commands),
	    cmocka_unit_test(test_body_chunk),
	    cmocka_unit_test(test_roundtrip_replies),
	    cmocka_unit_test(test_malformed_replies),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_optneg),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
