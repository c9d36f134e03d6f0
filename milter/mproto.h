#ifndef MILTLOAD_MPROTO_H
#define MILTLOAD_MPROTO_H

/*
 * mproto - the milter protocol's wire format, both sides: encode the
 * commands an MTA sends and the replies a milter sends, split the byte
 * stream into packets, decode replies (for miltload, the MTA side) and
 * commands (for mserve, relaygate's own milter side).  No I/O.
 *
 * MODEL
 *	Every packet is a 4-byte big-endian length, then a one-byte command
 *	code, then length-1 bytes of data.  Strings inside are NUL-terminated;
 *	numbers are 32-bit big-endian, the client port of SMFIC_CONNECT a
 *	16-bit big-endian.  Commands are appended to a growable buffer
 *	(struct mproto_buf) so that a caller can send macros and command in
 *	one write, as Postfix does.  The constants are the protocol's own
 *	(as libmilter's mfdef.h and Postfix's milter8.c define them); they
 *	are spelled out here so that neither side needs libmilter, and the
 *	unit test checks them against mfdef.h.
 *
 * OWNERSHIP
 *	A struct mproto_buf owns its memory (mproto_buf_free()).  Decoded
 *	packets, replies and option negotiations point into the caller's
 *	byte buffer: they are valid while that buffer is unchanged.  Input
 *	strings are borrowed for the call.
 *
 * CONCURRENCY
 *	Pure functions over caller-owned data; thread-safe.
 *
 * ERRORS
 *	Encoders cannot fail (allocation failure aborts).  Decoders return
 *	-1 with a reason in "why" for a malformed packet; nothing is logged.
 *
 * SEE ALSO
 *	libmilter's mfdef.h; Postfix milter8.c (the MTA side as Postfix
 *	speaks it); sendmail's libmilter/docs.
 */

#include <stddef.h>
#include <stdint.h>

#define MPROTO_VERSION 6           /* protocol version Postfix 3.x speaks */
#define MPROTO_CHUNK 65535         /* largest body chunk (MILTER_CHUNK_SIZE) */
#define MPROTO_MAX_PACKET 262144   /* replies larger than this are refused */
#define MPROTO_MAX_COMMAND 1048576 /* commands larger than this are refused */
#define MPROTO_MAX_ARGS 64         /* MAIL/RCPT strings decoded (more: error) */

/* Commands, MTA to milter (SMFIC_*). */
#define MPROTO_C_ABORT 'A'
#define MPROTO_C_BODY 'B'
#define MPROTO_C_CONNECT 'C'
#define MPROTO_C_MACRO 'D'
#define MPROTO_C_BODYEOB 'E'
#define MPROTO_C_HELO 'H'
#define MPROTO_C_QUIT_NC 'K'
#define MPROTO_C_HEADER 'L'
#define MPROTO_C_MAIL 'M'
#define MPROTO_C_EOH 'N'
#define MPROTO_C_OPTNEG 'O'
#define MPROTO_C_QUIT 'Q'
#define MPROTO_C_RCPT 'R'
#define MPROTO_C_DATA 'T'
#define MPROTO_C_UNKNOWN 'U'

/* Replies, milter to MTA (SMFIR_*). */
#define MPROTO_R_ADDRCPT '+'
#define MPROTO_R_DELRCPT '-'
#define MPROTO_R_ADDRCPT_PAR '2'
#define MPROTO_R_SHUTDOWN '4'
#define MPROTO_R_ACCEPT 'a'
#define MPROTO_R_REPLBODY 'b'
#define MPROTO_R_CONTINUE 'c'
#define MPROTO_R_DISCARD 'd'
#define MPROTO_R_CHGFROM 'e'
#define MPROTO_R_CONN_FAIL 'f'
#define MPROTO_R_ADDHEADER 'h'
#define MPROTO_R_INSHEADER 'i'
#define MPROTO_R_SETSYMLIST 'l'
#define MPROTO_R_CHGHEADER 'm'
#define MPROTO_R_PROGRESS 'p'
#define MPROTO_R_QUARANTINE 'q'
#define MPROTO_R_REJECT 'r'
#define MPROTO_R_SKIP 's'
#define MPROTO_R_TEMPFAIL 't'
#define MPROTO_R_REPLYCODE 'y'

/* Actions the MTA allows (SMFIF_*). */
#define MPROTO_F_ADDHDRS 0x001u
#define MPROTO_F_CHGBODY 0x002u
#define MPROTO_F_ADDRCPT 0x004u
#define MPROTO_F_DELRCPT 0x008u
#define MPROTO_F_CHGHDRS 0x010u
#define MPROTO_F_QUARANTINE 0x020u
#define MPROTO_F_CHGFROM 0x040u
#define MPROTO_F_ADDRCPT_PAR 0x080u
#define MPROTO_F_SETSYMLIST 0x100u

/* Protocol steps the milter may skip or not answer (SMFIP_*). */
#define MPROTO_P_NOCONNECT 0x00000001u
#define MPROTO_P_NOHELO 0x00000002u
#define MPROTO_P_NOMAIL 0x00000004u
#define MPROTO_P_NORCPT 0x00000008u
#define MPROTO_P_NOBODY 0x00000010u
#define MPROTO_P_NOHDRS 0x00000020u
#define MPROTO_P_NOEOH 0x00000040u
#define MPROTO_P_NR_HDR 0x00000080u
#define MPROTO_P_NOUNKNOWN 0x00000100u
#define MPROTO_P_NODATA 0x00000200u
#define MPROTO_P_SKIP 0x00000400u
#define MPROTO_P_RCPT_REJ 0x00000800u
#define MPROTO_P_NR_CONN 0x00001000u
#define MPROTO_P_NR_HELO 0x00002000u
#define MPROTO_P_NR_MAIL 0x00004000u
#define MPROTO_P_NR_RCPT 0x00008000u
#define MPROTO_P_NR_DATA 0x00010000u
#define MPROTO_P_NR_UNKN 0x00020000u
#define MPROTO_P_NR_EOH 0x00040000u
#define MPROTO_P_NR_BODY 0x00080000u
#define MPROTO_P_HDR_LEADSPC 0x00100000u

/*
 * What Postfix 3.x offers in its SMFIC_OPTNEG with milter_protocol = 6:
 * every action it implements, and every step of version 6 (milter8.c
 * MILTER8_V6_PROTO_MASK).  Observed on the wire: 6, 0x1ff, 0x1fffff.
 */
#define MPROTO_POSTFIX_ACTIONS 0x000001ffu
#define MPROTO_POSTFIX_PROTOCOL 0x001fffffu

/* Address families of SMFIC_CONNECT (SMFIA_*). */
#define MPROTO_FAMILY_UNKNOWN 'U'
#define MPROTO_FAMILY_UNIX 'L'
#define MPROTO_FAMILY_INET '4'
#define MPROTO_FAMILY_INET6 '6'

/*
 * Macro stages (SMFIM_*), the numbers a milter uses in its macro lists.
 * Note that EOM (5) comes before EOH (6) in numbering but not in time.
 */
enum mproto_stage {
	MPROTO_M_CONNECT = 0,
	MPROTO_M_HELO = 1,
	MPROTO_M_ENVFROM = 2,
	MPROTO_M_ENVRCPT = 3,
	MPROTO_M_DATA = 4,
	MPROTO_M_EOM = 5,
	MPROTO_M_EOH = 6,
	MPROTO_M_COUNT = 7
};

/* A growable byte buffer of outgoing packets. */
struct mproto_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

/* One packet as split from the input: command code and data. */
struct mproto_packet {
	unsigned char code;
	const unsigned char *data;
	size_t len;
};

/* A decoded reply; which fields are set depends on the code. */
struct mproto_reply {
	unsigned char code;
	uint32_t index;    /* INSHEADER, CHGHEADER */
	const char *name;  /* header name; address of ADDRCPT/DELRCPT/... */
	const char *value; /* header value; ESMTP args of CHGFROM/... */
	const char *text;  /* REPLYCODE text, QUARANTINE reason */
	size_t len;        /* REPLBODY: bytes at text */
};

/* The milter's answer to SMFIC_OPTNEG. */
struct mproto_optneg {
	uint32_t version;
	uint32_t actions;
	uint32_t protocol;
	const char *macros[MPROTO_M_COUNT]; /* override lists, NULL if none */
};

/*
 * A decoded MTA command; which fields are set depends on the code.  The
 * strings point into the packet.
 */
struct mproto_command {
	unsigned char code;
	uint32_t version, actions, protocol; /* OPTNEG */
	unsigned char stage;                 /* MACRO: the command it is for */
	const char *host;                    /* CONNECT: host name */
	char family;                         /* CONNECT: MPROTO_FAMILY_* */
	uint16_t port;                       /* CONNECT */
	const char *addr;                    /* CONNECT: address text, or "" */
	const char *name;  /* HEADER name; HELO, UNKNOWN text */
	const char *value; /* HEADER value */
	const char *argv[MPROTO_MAX_ARGS + 1]; /* MAIL, RCPT; NULL-ended */
	size_t argc;
	const unsigned char *data; /* BODY, BODYEOB, MACRO: the bytes */
	size_t len;
};

/* mproto_buf_init - an empty buffer */
void mproto_buf_init(struct mproto_buf *b);

/* mproto_buf_free - release the memory; the buffer is then empty */
void mproto_buf_free(struct mproto_buf *b);

/* mproto_buf_consume - drop the first n bytes (n <= len) */
void mproto_buf_consume(struct mproto_buf *b, size_t n);

/* mproto_buf_reserve - make room for n more bytes; returns the free end */
unsigned char *mproto_buf_reserve(struct mproto_buf *b, size_t n);

/* mproto_put_raw - one packet with arbitrary data (tests, replies) */
void mproto_put_raw(struct mproto_buf *b, unsigned char code, const void *data,
                    size_t len);

/* mproto_put_empty - a command without data (EOH, EOB, DATA, ABORT...) */
void mproto_put_empty(struct mproto_buf *b, unsigned char code);

/* mproto_put_optneg - SMFIC_OPTNEG: version, actions, protocol steps */
void mproto_put_optneg(struct mproto_buf *b, uint32_t version, uint32_t actions,
                       uint32_t protocol);

/*
 * mproto_put_macro - SMFIC_MACRO for the command "code": n name/value
 * pairs, nv[0], nv[1], ..., nv[2n-1].  n may be 0 (Postfix sends the empty
 * packet when no macro of the stage has a value).
 */
void mproto_put_macro(struct mproto_buf *b, unsigned char code,
                      const char *const *nv, size_t n);

/*
 * mproto_put_connect - SMFIC_CONNECT: host name, family, port, address.
 * For MPROTO_FAMILY_UNKNOWN only the host name and family are sent.
 */
void mproto_put_connect(struct mproto_buf *b, const char *host, char family,
                        uint16_t port, const char *addr);

/* mproto_put_string - a command with one string (HELO, UNKNOWN) */
void mproto_put_string(struct mproto_buf *b, unsigned char code, const char *s);

/* mproto_put_args - MAIL or RCPT: "<address>" then ESMTP arguments */
void mproto_put_args(struct mproto_buf *b, unsigned char code,
                     const char *const *argv, size_t argc);

/* mproto_put_header - SMFIC_HEADER: name and value */
void mproto_put_header(struct mproto_buf *b, const char *name,
                       const char *value);

/*
 * mproto_put_optneg_reply - the milter's SMFIC_OPTNEG: version, actions,
 * protocol steps, then the macro list of each stage that has one
 * (macros[stage] != NULL).
 */
void mproto_put_optneg_reply(struct mproto_buf *b, uint32_t version,
                             uint32_t actions, uint32_t protocol,
                             const char *const macros[MPROTO_M_COUNT]);

/* mproto_put_pair - a packet of two strings (HEADER, ADDHEADER) */
void mproto_put_pair(struct mproto_buf *b, unsigned char code, const char *name,
                     const char *value);

/* mproto_put_indexed - INSHEADER, CHGHEADER: index, name, value */
void mproto_put_indexed(struct mproto_buf *b, unsigned char code,
                        uint32_t index, const char *name, const char *value);

/* mproto_put_body - SMFIC_BODY; len must be 1..MPROTO_CHUNK */
void mproto_put_body(struct mproto_buf *b, const void *data, size_t len);

/*
 * mproto_split - the first complete packet of buf[0..len): returns 1 and
 * sets *pkt and *used (bytes the packet took), 0 when more bytes are
 * needed, -1 when the length field is impossible (0, or more than max).
 */
int mproto_split(const unsigned char *buf, size_t len, size_t max,
                 struct mproto_packet *pkt, size_t *used, char *why,
                 size_t whylen);

/*
 * mproto_strings - split packet data into n NUL-terminated strings;
 * returns how many strings it holds (at most n are stored), -1 if the last
 * one is unterminated.
 */
int mproto_strings(const unsigned char *data, size_t len, const char **out,
                   size_t n);

/*
 * mproto_parse_reply - decode a reply packet, checking that its data has
 * exactly the form its code requires.  An unknown code is malformed, and
 * so is a REPLYCODE Postfix would refuse: not "4xy" or "5xy", then a space
 * or dash, then an enhanced code of the same class.
 */
int mproto_parse_reply(const struct mproto_packet *pkt, struct mproto_reply *r,
                       char *why, size_t whylen);

/*
 * mproto_parse_optneg - decode the milter's SMFIC_OPTNEG: three numbers,
 * then optional (stage, "name name ...") macro lists.  A list for an
 * unknown stage is ignored, as Postfix does.
 */
int mproto_parse_optneg(const struct mproto_packet *pkt,
                        struct mproto_optneg *o, char *why, size_t whylen);

/*
 * mproto_parse_command - decode an MTA command, checking that its data
 * has the form its code requires; an unknown code is malformed.  MACRO
 * keeps its name/value strings in data/len (mproto_strings()).
 */
int mproto_parse_command(const struct mproto_packet *pkt,
                         struct mproto_command *c, char *why, size_t whylen);

/* mproto_reply_name - "continue", "insheader", ...; "?" if unknown */
const char *mproto_reply_name(unsigned char code);

/* mproto_command_name - "connect", "helo", "mail", ...; "?" if unknown */
const char *mproto_command_name(unsigned char code);

#endif
