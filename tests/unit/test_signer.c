/*
 * test_signer - sign messages the way the milter feeds them (field by
 * field, body in chunks) with RSA-2048 and Ed25519 keys, then verify
 * every signature with an independent implementation (python3-dkim via
 * tests/unit/dkim_verify.py, the key record given from a file) and with
 * libopendkim (signer's verifying handle), and compare it with the field
 * libopendkim 2.11 signs for the same message, key and time: the same
 * bytes, b= included (RSASSA-PKCS1-v1_5 and Ed25519 are deterministic),
 * so relaygate's own signer (dkimsign) hashes what libopendkim hashed.
 * Tampered messages must fail verification.  Also the signature's form
 * (tags, folding, line length), bodies with bare CRs and LFs cut between
 * chunks (python3-dkim only: libopendkim reads them otherwise, canon.h),
 * misuse of the API.
 * The verify path: our own signatures verified through signer's verifying
 * handle with keys from a fake lookup: pass, an altered body or header
 * (fail, with the reason), a key lookup that finds nothing, fails for
 * now or finds garbage (permerror, temperror), several signatures.
 *
 * Needs RELAYGATE_SOURCE_DIR (set by CMake) to find dkim_verify.py.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <opendkim/dkim.h>

#include "keys.h"
#include "signer.h"

#define SELECTOR "prezent-a"
#define DOMAIN "example.nl"
#define NKEYS 2

/*
 * libopendkim 2.11.0 never frees an Ed25519 signature's key state
 * (upstream PR #321): odk_sign(), the reference signature made with it,
 * leaks so.  Suppress exactly that for LeakSanitizer; slow unwinding lets
 * the stack through libcrypto name the function.
 */
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:dkim_privkey_load\n";
}

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

static char test_dir[64];
static char verifier[512];
static struct keys_key *test_keys[NKEYS]; /* RSA-2048, Ed25519 */
static struct signer *test_signer;

/* A message as the milter sees it. */
struct msg {
	size_t n;
	char **names;
	char **values; /* continuation lines joined with "\n" */
	char *head;    /* the header block as sent, CRLF */
	char *body;    /* CRLF */
	size_t body_len;
};

/* crlf - text with every "\n" made "\r\n", in fresh memory */
static char *
crlf(const char *text, size_t len, size_t *outlen)
{
	char *out = malloc(2 * len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			out[n++] = '\r';
		out[n++] = text[i];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* msg_add - one header line (or a continuation) of the message */
static void
msg_add(struct msg *m, const char *line, size_t len)
{
	const char *colon;

	if ((line[0] == ' ' || line[0] == '\t') && m->n > 0) {
		char *v = m->values[m->n - 1];
		size_t vlen = strlen(v);

		v = realloc(v, vlen + len + 2);
		v[vlen] = '\n';
		memcpy(v + vlen + 1, line, len);
		v[vlen + 1 + len] = '\0';
		m->values[m->n - 1] = v;
		return;
	}
	colon = memchr(line, ':', len);
	assert_non_null(colon);
	m->names = realloc(m->names, (m->n + 1) * sizeof(char *));
	m->values = realloc(m->values, (m->n + 1) * sizeof(char *));
	m->names[m->n] = strndup(line, (size_t) (colon - line));
	/* libmilter drops the one space after the colon */
	colon += colon[1] == ' ' ? 2 : 1;
	m->values[m->n] = strndup(colon, len - (size_t) (colon - line));
	m->n++;
}

/* msg_parse - split LF text into fields and a CRLF body */
static void
msg_parse(const char *text, size_t len, struct msg *m)
{
	const char *end = text + len, *p = text, *sep;
	size_t hlen;

	memset(m, 0, sizeof(*m));
	sep = memmem(text, len, "\n\n", 2);
	hlen = sep != NULL ? (size_t) (sep - text) + 1 : len;
	while (p < text + hlen) {
		const char *nl = memchr(p, '\n', (size_t) (text + hlen - p));
		size_t l =
		    nl != NULL ? (size_t) (nl - p) : (size_t) (text + hlen - p);

		msg_add(m, p, l);
		p += l + 1;
	}
	m->head = crlf(text, hlen, &hlen);
	if (sep != NULL)
		m->body = crlf(sep + 2, (size_t) (end - sep - 2), &m->body_len);
	else
		m->body = crlf("", 0, &m->body_len);
}

/* msg_free - release a parsed message */
static void
msg_free(struct msg *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->names[i]);
		free(m->values[i]);
	}
	free(m->names);
	free(m->values);
	free(m->head);
	free(m->body);
}

/* feed_body - the body in chunks (see sign) */
static void
feed_body(struct signer_msg *sm, const struct msg *m, const size_t *chunks)
{
	size_t off = 0, c = 0;

	while (off < m->body_len) {
		size_t n = chunks != NULL ? chunks[c++] : m->body_len;

		if (chunks != NULL && chunks[c] == 0)
			c = 0;
		if (n > m->body_len - off)
			n = m->body_len - off;
		signer_body(sm, (const unsigned char *) m->body + off, n);
		off += n;
	}
}

/* sign_as - sign as selector sel; returns signer_end's rc */
static int
sign_as(const struct keys_key *key, const char *sel, const struct msg *m,
        const size_t *chunks, char **value, char *why, size_t whylen)
{
	struct signer_msg *sm;
	int rc;

	sm = signer_begin(test_signer, key, sel, DOMAIN, why, whylen);
	if (sm == NULL)
		fail_msg("signer_begin: %s", why);
	for (size_t i = 0; i < m->n; i++)
		signer_header(sm, m->names[i], m->values[i]);
	signer_eoh(sm);
	feed_body(sm, m, chunks);
	rc = signer_end(sm, value, why, whylen);
	signer_free(sm);
	return rc;
}

/*
 * sign - feed the message to the signer; chunks (0-terminated, cycled)
 * give the body chunk sizes, NULL: one chunk.  Returns signer_end's rc.
 */
static int
sign(const struct keys_key *key, const struct msg *m, const size_t *chunks,
     char **value, char *why, size_t whylen)
{
	return sign_as(key, SELECTOR, m, chunks, value, why, whylen);
}

/* write_file - bytes to a file in the test directory */
static const char *
write_file(const char *name, const char *data, size_t len)
{
	static char paths[4][256];
	static unsigned next;
	char *path = paths[next++ % 4];
	FILE *f;

	snprintf(path, sizeof(paths[0]), "%s/%s", test_dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/*
 * signed_message - DKIM-Signature field (value folding made CRLF) on
 * top of the message as it was sent, in fresh memory.
 */
static char *
signed_message(const char *value, const struct msg *m, size_t *len)
{
	size_t vlen, hlen = strlen(m->head);
	char *v = crlf(value, strlen(value), &vlen);
	char *out = malloc(16 + vlen + 2 + hlen + 2 + m->body_len + 1);
	size_t n = 0;

	memcpy(out, "DKIM-Signature: ", 16), n += 16;
	memcpy(out + n, v, vlen), n += vlen;
	memcpy(out + n, "\r\n", 2), n += 2;
	memcpy(out + n, m->head, hlen), n += hlen;
	memcpy(out + n, "\r\n", 2), n += 2;
	memcpy(out + n, m->body, m->body_len), n += m->body_len;
	out[n] = '\0';
	free(v);
	*len = n;
	return out;
}

/* verify - run the independent verifier; its exit status */
static int
verify(const char *message, size_t len, const char *record)
{
	const char *mpath = write_file("msg.eml", message, len);
	const char *rpath = write_file("key.txt", record, strlen(record));
	char cmd[2048];
	int st;

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s %s", verifier,
	         mpath, rpath, SELECTOR "._domainkey." DOMAIN);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 2)
		fail_msg("verifier environment error (see stderr)");
	return WEXITSTATUS(st);
}

/* tag_value - an unfolded tag's value from a signature, in buf */
static const char *
tag_value(const char *value, const char *tag, char *buf, size_t size)
{
	char flat[8192];
	size_t n = 0;
	const char *p;

	for (p = value; *p != '\0' && n + 1 < sizeof(flat); p++)
		if (*p != '\n' && *p != '\t' && *p != ' ')
			flat[n++] = *p;
	flat[n] = '\0';
	for (char *t = strtok(flat, ";"); t != NULL; t = strtok(NULL, ";"))
		if (strncmp(t, tag, strlen(tag)) == 0 &&
		    t[strlen(tag)] == '=') {
			snprintf(buf, size, "%s", t + strlen(tag) + 1);
			return buf;
		}
	return NULL;
}

/* check_form - what every signature value must look like */
static void
check_form(const char *value, const struct keys_key *key)
{
	char buf[8192];
	size_t line = 16; /* "DKIM-Signature: " */

	for (const char *p = value; *p != '\0'; p++) {
		assert_int_not_equal(*p, '\r');
		line = *p == '\n' ? 0 : line + 1;
		assert_true(line < 998);
		if (*p == '\n')
			assert_true(p[1] == '\t');
	}
	assert_string_equal(tag_value(value, "a", buf, sizeof(buf)),
	                    keys_alg(key) == KEYS_ALG_RSA ? "rsa-sha256"
	                                                  : "ed25519-sha256");
	assert_string_equal(tag_value(value, "c", buf, sizeof(buf)),
	                    "relaxed/relaxed");
	assert_string_equal(tag_value(value, "d", buf, sizeof(buf)), DOMAIN);
	assert_string_equal(tag_value(value, "s", buf, sizeof(buf)), SELECTOR);
	assert_null(tag_value(value, "l", buf, sizeof(buf)));
	assert_non_null(tag_value(value, "h", buf, sizeof(buf)));
	assert_null(strcasestr(buf, "received"));
	/* the oversigned names close the list */
	assert_non_null(strstr(buf, ":from:reply-to:subject:to:cc"));
	assert_int_equal(strlen(strstr(buf, ":from:reply-to:subject:to:cc")),
	                 strlen(":from:reply-to:subject:to:cc"));
}

/* listed - is name in the NULL-terminated list (any case)? */
static int
listed(const char *const *list, const char *name)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcasecmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* odk_header - one listed field into libopendkim as signer fed it */
static void
odk_header(DKIM *d, const char *name, const char *value)
{
	size_t n = 0;
	char *buf = malloc(strlen(name) + 2 * strlen(value) + 4);

	n = (size_t) sprintf(buf, "%s:%s", name,
	                     value[0] == ' ' || value[0] == '\t' ? "" : " ");
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			buf[n++] = '\r';
		buf[n++] = *p;
	}
	assert_int_equal(dkim_header(d, (u_char *) buf, n), DKIM_STAT_OK);
	free(buf);
}

/*
 * odk_sign - the DKIM-Signature value libopendkim 2.11 makes of m with
 * key at time t, set up as relaygate's signer set it up when it signed
 * with libopendkim (default lists, relaxed/relaxed, margin 75), CRs
 * removed.  Fresh memory.
 */
static char *
odk_sign(const struct keys_key *key, const struct msg *m, uint64_t t)
{
	const char *const *sign = signer_default_headers();
	const char *const *over = signer_default_oversign();
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	DKIM_STAT st = DKIM_STAT_OK;
	u_char *hdr = NULL;
	size_t len = 0, n = 0;
	char *out;
	DKIM *d;

	assert_non_null(lib);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME,
	                              &t, sizeof(t)),
	                 DKIM_STAT_OK);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	                              (void *) sign, sizeof(char **)),
	                 DKIM_STAT_OK);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT,
	                              DKIM_OPTS_OVERSIGNHDRS, (void *) over,
	                              sizeof(char **)),
	                 DKIM_STAT_OK);
	d = dkim_sign(lib, (const u_char *) "test", NULL,
	              (dkim_sigkey_t) keys_pem(key), (const u_char *) SELECTOR,
	              (const u_char *) DOMAIN, DKIM_CANON_RELAXED,
	              DKIM_CANON_RELAXED,
	              keys_alg(key) == KEYS_ALG_RSA ? DKIM_SIGN_RSASHA256
	                                            : DKIM_SIGN_ED25519SHA256,
	              -1, &st);
	assert_non_null(d);
	for (size_t i = 0; i < m->n; i++)
		if (listed(sign, m->names[i]))
			odk_header(d, m->names[i], m->values[i]);
	assert_int_equal(dkim_eoh(d), DKIM_STAT_OK);
	if (m->body_len > 0) {
		const char *end = m->body[m->body_len - 1] == '\r'   ? "\n"
		                  : m->body[m->body_len - 1] != '\n' ? "\r\n"
		                                                     : "";

		assert_int_equal(dkim_body(d, (u_char *) m->body, m->body_len),
		                 DKIM_STAT_OK);
		if (end[0] != '\0')
			assert_int_equal(
			    dkim_body(d, (u_char *) end, strlen(end)),
			    DKIM_STAT_OK);
	}
	assert_int_equal(dkim_eom(d, NULL), DKIM_STAT_OK);
	assert_int_equal(dkim_getsighdr_d(d, 16, &hdr, &len), DKIM_STAT_OK);
	out = malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		if (hdr[i] != '\r')
			out[n++] = (char) hdr[i];
	out[n] = '\0';
	dkim_free(d);
	dkim_close(lib);
	return out;
}

/* same_as_odk - value is what libopendkim signs at value's t= */
static void
same_as_odk(const char *value, const struct keys_key *key, const struct msg *m)
{
	char t[64], *odk;

	assert_non_null(tag_value(value, "t", t, sizeof(t)));
	odk = odk_sign(key, m, strtoull(t, NULL, 10));
	if (strcmp(value, odk) != 0)
		fail_msg("%s: ours and libopendkim's differ:\n%s\n%s",
		         keys_alg_name(keys_alg(key)), value, odk);
	free(odk);
}

struct lookup_fake;
static int verify_own(const char *const *sigs, size_t nsigs,
                      const struct msg *m, struct lookup_fake *f,
                      struct signer_verdict *out);
static void odk_verifies(const char *value, const struct keys_key *key,
                         const struct msg *m);

/*
 * sign_and_verify - sign text with each key (body in the given chunks),
 * check the form, verify with python3-dkim and libopendkim, compare with
 * libopendkim's own signature; returns nothing, fails.
 */
static void
sign_and_verify(const char *text, size_t len, const size_t *chunks)
{
	struct msg m;

	msg_parse(text, len, &m);
	for (int k = 0; k < NKEYS; k++) {
		char why[256] = "", *value = NULL, *full;
		size_t flen;

		if (sign(test_keys[k], &m, chunks, &value, why, sizeof(why)) <
		    0)
			fail_msg("sign: %s", why);
		check_form(value, test_keys[k]);
		full = signed_message(value, &m, &flen);
		if (verify(full, flen, keys_record(test_keys[k])) != 0)
			fail_msg("%s signature does not verify:\n%s",
			         keys_alg_name(keys_alg(test_keys[k])), full);
		odk_verifies(value, test_keys[k], &m);
		same_as_odk(value, test_keys[k], &m);
		free(full);
		free(value);
	}
	msg_free(&m);
}

#define PLAIN                                                                  \
	"Received: from client.example (client [192.0.2.1])\n"                 \
	"\tby relay.prezent.nl with ESMTP id 1234\n"                           \
	"From: Webshop <noreply@example.nl>\n"                                 \
	"To: klant@example.org\n"                                              \
	"Subject: Uw bestelling\n"                                             \
	"Date: Mon, 6 May 2024 10:00:00 +0200\n"                               \
	"Message-ID: <1234@example.nl>\n"                                      \
	"MIME-Version: 1.0\n"                                                  \
	"Content-Type: text/plain; charset=utf-8\n"                            \
	"\n"                                                                   \
	"Hello,\n"                                                             \
	"\n"                                                                   \
	"Your order has shipped.\n"

static void
test_plain(void **state)
{
	(void) state;
	sign_and_verify(PLAIN, strlen(PLAIN), NULL);
}

/* No body, an empty line, trailing blank lines, no final CRLF. */
static void
test_empty_body(void **state)
{
	static const char *const texts[] = {
	    "From: a@example.nl\nSubject: empty\n",
	    "From: a@example.nl\nSubject: empty\n\n",
	    "From: a@example.nl\nSubject: empty\n\n\n",
	    "From: a@example.nl\nSubject: blanks\n\nx\n\n\n\n",
	    "From: a@example.nl\nSubject: no CRLF\n\nlast line unterminated",
	    "From: a@example.nl\nSubject: only spaces\n\n \t \n",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		sign_and_verify(texts[i], strlen(texts[i]), NULL);
}

/* big_message - headers + a body of about size bytes of varied lines */
static char *
big_message(size_t size, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	fputs("From: a@example.nl\nTo: b@example.org\nSubject: big\n\n", f);
	for (unsigned i = 0; ftell(f) < (long) size; i++)
		fprintf(f, "line %u %.*s%s\n", i, (int) (i % 71),
		        "The quick brown fox jumps over the lazy dog, "
		        "again and again and again.",
		        i % 13 == 0 ? "   \t" : "");
	fclose(f);
	*len = n;
	return text;
}

/* 64 KiB body in chunk sizes that split CRLF pairs and lines. */
static void
test_chunked_body(void **state)
{
	static const size_t odd[] = {1, 3, 7, 2, 4093, 13, 1, 65536, 0};
	static const size_t one[] = {1, 0};
	size_t len;
	char *text = big_message(65536, &len);

	(void) state;
	sign_and_verify(text, len, odd);
	sign_and_verify(text, len, one);
	free(text);
}

/* Folded fields arrive with "\n" between the lines. */
static void
test_folded_headers(void **state)
{
	static const char text[] =
	    "From: \"A very long display name that needs folding\"\n"
	    "\t<a@example.nl>\n"
	    "To: first@example.org,\n"
	    "    second@example.org,\n"
	    "\tthird@example.org\n"
	    "Subject: a subject\n"
	    "  folded  over   three\n"
	    "\tlines   with  odd   spacing\n"
	    "\n"
	    "body\n";

	(void) state;
	sign_and_verify(text, strlen(text), NULL);
}

/* 8-bit bytes in the body and in header values. */
static void
test_8bit(void **state)
{
	static const char text[] =
	    "From: =?utf-8?q?Ren=C3=A9?= <rene@example.nl>\n"
	    "Subject: Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Caf\xe9 \xff\xfe\x80 bytes\n"
	    "UTF-8: \xc3\xa9\xe2\x82\xac\n";

	(void) state;
	sign_and_verify(text, sizeof(text) - 1, NULL);
}

/*
 * Bare CRs (text) and bare LFs (line ends) in the body, a CR and its LF
 * in different chunks, spaces before a chunk's end: python3-dkim agrees.
 */
static void
test_bare_cr_lf(void **state)
{
	static const char head[] = "From: a@example.nl\nSubject: bare\n";
	static const char body[] = "bare CR\rinside, CR then space\r x\r\n"
	                           "bare LF\nends a line \t\n\r\n"
	                           "CRLF cut here\r\nspaces cut   \t \r\n"
	                           "\r\r\n\n\r\n\r\nlast\r\n\r\n\n";
	static const size_t cuts[] = {7, 1, 8, 2, 13, 1, 3, 0};
	struct msg m;

	(void) state;
	msg_parse(head, strlen(head), &m);
	free(m.body);
	m.body = strdup(body);
	m.body_len = strlen(body);
	for (int k = 0; k < NKEYS; k++) {
		char why[256] = "", *value = NULL, *full;
		size_t flen;

		if (sign(test_keys[k], &m, cuts, &value, why, sizeof(why)) < 0)
			fail_msg("sign: %s", why);
		full = signed_message(value, &m, &flen);
		if (verify(full, flen, keys_record(test_keys[k])) != 0)
			fail_msg("%s signature does not verify:\n%s",
			         keys_alg_name(keys_alg(test_keys[k])), full);
		free(full);
		free(value);
	}
	msg_free(&m);
}

/* Hundreds of fields, signed and unsigned, several of the same name. */
static void
test_many_headers(void **state)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	(void) state;
	for (int i = 0; i < 60; i++)
		fprintf(f, "Received: from hop%d by hop%d; Mon, 6 May 2024\n",
		        i, i + 1);
	fputs("From: a@example.nl\nSubject: many\n", f);
	for (int i = 0; i < 300; i++)
		fprintf(f, "X-Header-%d: value %d\n", i, i);
	for (int i = 0; i < 40; i++)
		fprintf(f, "To: r%d@example.org\nCc: c%d@example.org\n", i, i);
	fputs("\nbody\n", f);
	fclose(f);
	sign_and_verify(text, n, NULL);
	free(text);
}

/* Two From fields: both signed, From oversigned; still verifies. */
static void
test_duplicate_from(void **state)
{
	static const char text[] = "From: a@example.nl\n"
	                           "Subject: two froms\n"
	                           "From: b@example.nl\n"
	                           "\n"
	                           "body\n";

	(void) state;
	sign_and_verify(text, strlen(text), NULL);
}

/* An empty value, a 100 KiB folded Subject, LF-only values. */
static void
test_odd_values(void **state)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	(void) state;
	fputs("From: a@example.nl\nCc:\nSubject: big", f);
	for (int i = 0; i < 1600; i++)
		fputs(" word word word word word word word word word word\n",
		      f);
	fputs("\tend\n\nbody\n", f);
	fclose(f);
	sign_and_verify(text, n, NULL);
	free(text);
}

/* sign_text - sign LF text with key 0; value and full message out */
static char *
sign_text(const char *text, int k, struct msg *m, size_t *flen)
{
	char why[256], *value, *full;

	msg_parse(text, strlen(text), m);
	if (sign(test_keys[k], m, NULL, &value, why, sizeof(why)) < 0)
		fail_msg("sign: %s", why);
	full = signed_message(value, m, flen);
	free(value);
	return full;
}

/* replace - change the first occurrence of from into to (same length) */
static void
replace(char *text, const char *from, const char *to)
{
	char *p = strstr(text, from);

	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

/* prepend_verify - verify full with a field added on top */
static int
prepend_verify(const char *field, const char *full, size_t flen,
               const char *record)
{
	size_t l = strlen(field);
	char *out = malloc(l + flen + 1);
	int rc;

	memcpy(out, field, l);
	memcpy(out + l, full, flen + 1);
	rc = verify(out, l + flen, record);
	free(out);
	return rc;
}

/* A changed body, a changed signed field, an added From or Reply-To, the
 * wrong key: all must fail.  Unsigned changes must not. */
static void
test_tampering_detected(void **state)
{
	(void) state;
	for (int k = 0; k < NKEYS; k++) {
		const char *rec = keys_record(test_keys[k]);
		struct msg m;
		size_t flen;
		char *full = sign_text(PLAIN, k, &m, &flen);

		assert_int_equal(verify(full, flen, rec), 0);
		replace(full, "has shipped", "has shopped");
		assert_int_equal(verify(full, flen, rec), 1);
		replace(full, "has shopped", "has shipped");
		replace(full, "Uw bestelling", "Uw bestellinG");
		assert_int_equal(verify(full, flen, rec), 1);
		replace(full, "Uw bestellinG", "Uw bestelling");
		assert_int_equal(prepend_verify("From: boss@example.nl\r\n",
		                                full, flen, rec),
		                 1);
		assert_int_equal(
		    prepend_verify("Reply-To: evil@example.com\r\n", full, flen,
		                   rec),
		    1);
		assert_int_equal(
		    prepend_verify("Subject: Urgent\r\n", full, flen, rec), 1);
		assert_int_equal(
		    prepend_verify("Received: from another.hop\r\n", full, flen,
		                   rec),
		    0);
		assert_int_equal(
		    verify(full, flen, keys_record(test_keys[1 - k])), 1);
		free(full);
		msg_free(&m);
	}
}

/* No From: a reason, not an abort. */
static void
test_no_from(void **state)
{
	static const char text[] = "Subject: no from\nTo: x@example.org\n\nb\n";
	char why[256] = "", *value = (char *) 1;
	struct msg m;

	(void) state;
	msg_parse(text, strlen(text), &m);
	assert_int_equal(sign(test_keys[0], &m, NULL, &value, why, sizeof(why)),
	                 -1);
	assert_null(value);
	assert_non_null(strstr(why, "no From header field"));
	msg_free(&m);
}

/* Only unsigned, odd fields (names with spaces, 8-bit, empty): skipped. */
static void
test_unsigned_odd_fields(void **state)
{
	struct signer_msg *sm;
	char why[256] = "", *value = NULL;

	(void) state;
	sm = signer_begin(test_signer, test_keys[0], SELECTOR, DOMAIN, why,
	                  sizeof(why));
	assert_int_equal(signer_header(sm, "", "x"), 0);
	assert_int_equal(signer_header(sm, "Bad Name", "x"), 0);
	assert_int_equal(signer_header(sm, "X-\xc3\xa9", "\xff"), 0);
	assert_int_equal(signer_header(sm, "Na:me", "x"), 0);
	assert_int_equal(signer_header(sm, "From", "a@example.nl"), 0);
	assert_int_equal(signer_header(sm, "DKIM-Signature", "junk;;="), 0);
	assert_int_equal(signer_end(sm, &value, why, sizeof(why)), 0);
	assert_non_null(value);
	free(value);
	signer_free(sm);
}

/* Out-of-order calls fail with a reason; the handle stays freeable. */
static void
test_misuse(void **state)
{
	struct signer_msg *sm;
	char why[256] = "", *value = NULL;

	(void) state;
	sm = signer_begin(test_signer, test_keys[1], SELECTOR, DOMAIN, why,
	                  sizeof(why));
	assert_int_equal(signer_header(sm, "From", "a@example.nl"), 0);
	assert_int_equal(signer_body(sm, (const unsigned char *) "x\r\n", 3),
	                 -1);
	assert_int_equal(signer_eoh(sm), -1);
	assert_int_equal(signer_end(sm, &value, why, sizeof(why)), -1);
	assert_null(value);
	assert_non_null(strstr(why, "signer_body called before the end of "
	                            "the headers"));
	signer_free(sm);

	sm = signer_begin(test_signer, test_keys[0], SELECTOR, DOMAIN, why,
	                  sizeof(why));
	assert_int_equal(signer_header(sm, "From", "a@example.nl"), 0);
	assert_int_equal(signer_eoh(sm), 0);
	assert_int_equal(signer_header(sm, "To", "b@example.org"), -1);
	signer_free(sm);

	sm = signer_begin(test_signer, test_keys[0], SELECTOR, DOMAIN, why,
	                  sizeof(why));
	assert_int_equal(signer_header(sm, "From", "a@example.nl"), 0);
	assert_int_equal(signer_body(sm, NULL, 0), -1); /* before eoh */
	signer_free(sm);

	sm = signer_begin(test_signer, test_keys[0], SELECTOR, DOMAIN, why,
	                  sizeof(why));
	assert_int_equal(signer_header(sm, "From", "a@example.nl"), 0);
	assert_int_equal(signer_end(sm, &value, why, sizeof(why)), 0);
	free(value);
	assert_int_equal(signer_end(sm, &value, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "after the end"));
	signer_free(sm);
	signer_free(NULL);
}

/* More signed fields than libopendkim's name list holds: refused. */
static void
test_too_many_signed(void **state)
{
	struct signer_msg *sm;
	char why[256] = "", *value = NULL;
	int rc = 0;

	(void) state;
	sm = signer_begin(test_signer, test_keys[1], SELECTOR, DOMAIN, why,
	                  sizeof(why));
	assert_int_equal(signer_header(sm, "From", "a@example.nl"), 0);
	for (int i = 0; i < 1500 && rc == 0; i++)
		rc = signer_header(sm, "To", "x@example.org");
	assert_int_equal(rc, -1);
	assert_int_equal(signer_end(sm, &value, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "too many header fields to sign"));
	signer_free(sm);
}

/* Bad d= and s= values never reach libopendkim. */
static void
test_bad_names(void **state)
{
	static const char *const bad[][2] = {
	    {SELECTOR, ""},
	    {SELECTOR, "exa mple.nl"},
	    {SELECTOR, "a;b.nl"},
	    {SELECTOR, "b\xc3\xbc"
	               "cher.de"},
	    {"", DOMAIN},
	    {"sel;x", DOMAIN},
	    {SELECTOR, ".example.nl"},
	};
	char why[256];

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_null(signer_begin(test_signer, test_keys[0], bad[i][0],
		                         bad[i][1], why, sizeof(why)));
		assert_non_null(strstr(why, "invalid"));
	}
}

/* signer_open checks its lists; long ones are fine (no libopendkim). */
static void
test_open_lists(void **state)
{
	static const char *const bad_name[] = {"from", "to:cc", NULL};
	static const char *const sign[] = {"subject", "to", NULL};
	static const char *const over_ok[] = {"From", "Subject", NULL};
	static const char *const over_bad[] = {"reply-to", NULL};
	static const char *const none[] = {NULL};
	const char *long_list[200];
	char why[256], names[200][16];
	struct signer *s;

	(void) state;
	assert_null(signer_open(bad_name, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "'to:cc'"));
	/* from is added to any sign list, so oversigning it is fine */
	s = signer_open(sign, over_ok, why, sizeof(why));
	assert_non_null(s);
	signer_close(s);
	assert_null(signer_open(sign, over_bad, why, sizeof(why)));
	assert_non_null(strstr(why, "'reply-to' is not in the list"));
	s = signer_open(sign, none, why, sizeof(why));
	assert_non_null(s);
	signer_close(s);
	for (int i = 0; i < 199; i++) {
		snprintf(names[i], sizeof(names[i]), "x-field-%d", i);
		long_list[i] = names[i];
	}
	long_list[199] = NULL;
	s = signer_open(long_list, none, why, sizeof(why));
	assert_non_null(s);
	signer_close(s);
	signer_close(NULL);
}

/* With no oversigning the h= list is just the fields present. */
static void
test_no_oversign(void **state)
{
	static const char *const none[] = {NULL};
	static const char text[] = "From: a@example.nl\nSubject: s\n\nb\n";
	struct signer *saved = test_signer;
	char why[256], *value, buf[256];
	struct msg m;

	(void) state;
	test_signer = signer_open(NULL, none, why, sizeof(why));
	assert_non_null(test_signer);
	msg_parse(text, strlen(text), &m);
	assert_int_equal(sign(test_keys[0], &m, NULL, &value, why, sizeof(why)),
	                 0);
	assert_string_equal(tag_value(value, "h", buf, sizeof(buf)),
	                    "From:Subject");
	free(value);
	msg_free(&m);
	signer_close(test_signer);
	test_signer = saved;
}

/* The fake key lookup of the verify tests: one answer per selector. */
struct lookup_fake {
	const char *selector[2];
	enum signer_key status[2];
	const char *record[2];
	int calls;
};

/* lookup_fake - answer from a struct lookup_fake */
static enum signer_key
lookup_fake(void *arg, const char *selector, const char *domain, char *record,
            size_t size, char *why, size_t whylen)
{
	struct lookup_fake *f = arg;

	f->calls++;
	assert_string_equal(domain, DOMAIN);
	for (int i = 0; i < 2; i++) {
		if (f->selector[i] == NULL ||
		    strcmp(f->selector[i], selector) != 0)
			continue;
		if (f->status[i] == SIGNER_KEY_FOUND)
			snprintf(record, size, "%s", f->record[i]);
		else
			snprintf(why, whylen, "fake answer %d", f->status[i]);
		return f->status[i];
	}
	snprintf(why, whylen, "NXDOMAIN");
	return SIGNER_KEY_NONE;
}

/*
 * verify_own - verify a message the way a receiver gets it: the
 * signature fields (values as signer_end made them), then m's fields and
 * body.  Returns signer_verify_end's rc.
 */
static int
verify_own(const char *const *sigs, size_t nsigs, const struct msg *m,
           struct lookup_fake *f, struct signer_verdict *out)
{
	static const size_t chunks[] = {5, 1, 4096, 0};
	struct signer_msg *vm;
	char why[256] = "";
	int rc;

	vm = signer_verify_begin(test_signer, lookup_fake, f, why, sizeof(why));
	assert_non_null(vm);
	for (size_t i = 0; i < nsigs; i++)
		assert_int_equal(signer_header(vm, "DKIM-Signature", sigs[i]),
		                 0);
	for (size_t i = 0; i < m->n; i++)
		assert_int_equal(signer_header(vm, m->names[i], m->values[i]),
		                 0);
	assert_int_equal(signer_eoh(vm), 0);
	feed_body(vm, m, chunks);
	rc = signer_verify_end(vm, out, why, sizeof(why));
	if (rc < 0)
		print_error("signer_verify_end: %s\n", why);
	signer_free(vm);
	return rc;
}

/* odk_verifies - libopendkim (signer's verifying handle) passes value */
static void
odk_verifies(const char *value, const struct keys_key *key, const struct msg *m)
{
	struct lookup_fake f = {.selector = {SELECTOR},
	                        .status = {SIGNER_KEY_FOUND},
	                        .record = {keys_record(key)}};
	struct signer_verdict v;

	assert_int_equal(verify_own(&value, 1, m, &f, &v), 0);
	assert_int_equal(v.n, 1);
	if (v.sig[0].result != SIGNER_PASS)
		fail_msg("libopendkim: %s signature: %s (%s)",
		         keys_alg_name(keys_alg(key)),
		         signer_result_name(v.sig[0].result), v.sig[0].reason);
}

/* Our own signatures verify, with either key; the identity is reported. */
static void
test_verify_pass(void **state)
{
	struct signer_verdict v;
	struct msg m;

	(void) state;
	msg_parse(PLAIN, strlen(PLAIN), &m);
	for (int k = 0; k < NKEYS; k++) {
		struct lookup_fake f = {.selector = {SELECTOR},
		                        .status = {SIGNER_KEY_FOUND},
		                        .record = {keys_record(test_keys[k])}};
		char why[256], *value;

		assert_int_equal(
		    sign(test_keys[k], &m, NULL, &value, why, sizeof(why)), 0);
		assert_int_equal(
		    verify_own((const char *const *) &value, 1, &m, &f, &v), 0);
		assert_int_equal(v.nsigs, 1);
		assert_int_equal(v.n, 1);
		assert_int_equal(v.sig[0].result, SIGNER_PASS);
		assert_string_equal(signer_result_name(v.sig[0].result),
		                    "pass");
		assert_string_equal(v.sig[0].domain, DOMAIN);
		assert_string_equal(v.sig[0].selector, SELECTOR);
		assert_string_equal(v.sig[0].algorithm,
		                    k == 0 ? "rsa-sha256" : "ed25519-sha256");
		assert_int_equal(v.sig[0].body_ok, 1);
		if (k == 0)
			assert_int_equal(v.sig[0].key_bits, 2048);
		assert_int_equal(f.calls, 1);
		free(value);
	}
	msg_free(&m);
}

/* An altered body or signed field fails, saying which; so does another key. */
static void
test_verify_altered(void **state)
{
	char why[256], *value, *text = strdup(PLAIN);
	struct lookup_fake f = {.selector = {SELECTOR},
	                        .status = {SIGNER_KEY_FOUND},
	                        .record = {keys_record(test_keys[0])}};
	struct signer_verdict v;
	struct msg m;

	(void) state;
	msg_parse(text, strlen(text), &m);
	assert_int_equal(sign(test_keys[0], &m, NULL, &value, why, sizeof(why)),
	                 0);
	msg_free(&m);
	replace(text, "has shipped", "has shopped");
	msg_parse(text, strlen(text), &m);
	assert_int_equal(
	    verify_own((const char *const *) &value, 1, &m, &f, &v), 0);
	assert_int_equal(v.sig[0].result, SIGNER_FAIL);
	assert_int_equal(v.sig[0].body_ok, 0);
	assert_non_null(strstr(v.sig[0].reason, "body hash mismatch"));
	msg_free(&m);
	replace(text, "has shopped", "has shipped");
	replace(text, "Uw bestelling", "Uw bestellinG");
	msg_parse(text, strlen(text), &m);
	assert_int_equal(
	    verify_own((const char *const *) &value, 1, &m, &f, &v), 0);
	assert_int_equal(v.sig[0].result, SIGNER_FAIL);
	assert_int_not_equal(v.sig[0].body_ok, 0); /* not reached, or fine */
	assert_non_null(strstr(v.sig[0].reason, "signature mismatch"));
	msg_free(&m);
	replace(text, "Uw bestellinG", "Uw bestelling");
	msg_parse(text, strlen(text), &m);
	f.record[0] = keys_record(test_keys[1]); /* Ed25519, not ours */
	assert_int_equal(
	    verify_own((const char *const *) &value, 1, &m, &f, &v), 0);
	assert_int_not_equal(v.sig[0].result, SIGNER_PASS);
	msg_free(&m);
	free(value);
	free(text);
}

/*
 * The key lookup's outcome decides the result kind: nothing there is
 * permerror, DNS trouble temperror, garbage or a revoked key permerror.
 */
static void
test_verify_key_lookup(void **state)
{
	static const struct {
		enum signer_key status;
		const char *record;
		enum signer_result want;
		const char *reason;
	} cases[] = {
	    {SIGNER_KEY_NONE, NULL, SIGNER_PERMERROR,
	     "no key record at " SELECTOR "._domainkey." DOMAIN
	     ": fake answer 1"},
	    {SIGNER_KEY_TEMPFAIL, NULL, SIGNER_TEMPERROR,
	     "DNS failure at " SELECTOR "._domainkey." DOMAIN
	     ": fake answer 2"},
	    {SIGNER_KEY_INVALID, NULL, SIGNER_PERMERROR,
	     "unusable key record at " SELECTOR "._domainkey." DOMAIN
	     ": fake answer 3"},
	    {SIGNER_KEY_FOUND, "v=DKIM1; k=rsa; p=", SIGNER_PERMERROR,
	     "revoked"},
	    {SIGNER_KEY_FOUND, "v=DKIM1; k=rsa; p=AAAA", SIGNER_PERMERROR, ""},
	};
	char why[256], *value;
	struct signer_verdict v;
	struct msg m;

	(void) state;
	msg_parse(PLAIN, strlen(PLAIN), &m);
	assert_int_equal(sign(test_keys[0], &m, NULL, &value, why, sizeof(why)),
	                 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lookup_fake f = {.selector = {SELECTOR},
		                        .status = {cases[i].status},
		                        .record = {cases[i].record}};

		assert_int_equal(
		    verify_own((const char *const *) &value, 1, &m, &f, &v), 0);
		assert_int_equal(v.n, 1);
		if (v.sig[0].result != cases[i].want ||
		    strstr(v.sig[0].reason, cases[i].reason) == NULL)
			fail_msg("case %zu: %s (%s)", i,
			         signer_result_name(v.sig[0].result),
			         v.sig[0].reason);
		assert_int_equal(v.sig[0].body_ok, -1);
	}
	free(value);
	msg_free(&m);
}

/*
 * Two signatures: DNS trouble for the first key must not stop the second
 * (libopendkim's own "try again" would end the message there).
 */
static void
test_verify_two(void **state)
{
	struct lookup_fake f = {
	    .selector = {"sel-t", "sel-ok"},
	    .status = {SIGNER_KEY_TEMPFAIL, SIGNER_KEY_FOUND},
	    .record = {NULL, keys_record(test_keys[1])}};
	char why[256], *sigs[2];
	struct signer_verdict v;
	struct msg m;

	(void) state;
	msg_parse(PLAIN, strlen(PLAIN), &m);
	assert_int_equal(sign_as(test_keys[0], "sel-t", &m, NULL, &sigs[0], why,
	                         sizeof(why)),
	                 0);
	assert_int_equal(sign_as(test_keys[1], "sel-ok", &m, NULL, &sigs[1],
	                         why, sizeof(why)),
	                 0);
	assert_int_equal(verify_own((const char *const *) sigs, 2, &m, &f, &v),
	                 0);
	assert_int_equal(v.nsigs, 2);
	assert_string_equal(v.sig[0].selector, "sel-t");
	assert_int_equal(v.sig[0].result, SIGNER_TEMPERROR);
	assert_string_equal(v.sig[1].selector, "sel-ok");
	assert_int_equal(v.sig[1].result, SIGNER_PASS);
	assert_int_equal(f.calls, 2);
	free(sigs[0]);
	free(sigs[1]);
	msg_free(&m);
}

/* No signature at all: a result (none), not an error; nothing looked up. */
static void
test_verify_unsigned(void **state)
{
	struct lookup_fake f = {.calls = 0};
	struct signer_verdict v;
	struct msg m;

	(void) state;
	msg_parse(PLAIN, strlen(PLAIN), &m);
	assert_int_equal(verify_own(NULL, 0, &m, &f, &v), 0);
	assert_int_equal(v.nsigs, 0);
	assert_int_equal(v.n, 0);
	assert_int_equal(f.calls, 0);
	msg_free(&m);
}

/* A signing handle cannot be verified, nor a verifying one signed. */
static void
test_verify_misuse(void **state)
{
	struct lookup_fake f = {.calls = 0};
	struct signer_verdict v;
	struct signer_msg *sm;
	char why[256] = "", *value = NULL;

	(void) state;
	sm =
	    signer_verify_begin(test_signer, lookup_fake, &f, why, sizeof(why));
	assert_int_equal(signer_header(sm, "From", "a@example.nl"), 0);
	assert_int_equal(signer_end(sm, &value, why, sizeof(why)), -1);
	assert_null(value);
	assert_non_null(strstr(why, "verifying handle"));
	signer_free(sm);
	sm = signer_begin(test_signer, test_keys[0], SELECTOR, DOMAIN, why,
	                  sizeof(why));
	assert_int_equal(signer_verify_end(sm, &v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "signing handle"));
	signer_free(sm);
}

static int
setup(void **state)
{
	const char *src = getenv("RELAYGATE_SOURCE_DIR");
	struct keys_gen gen = {.alg = KEYS_ALG_RSA,
	                       .bits = 2048,
	                       .owner = (uid_t) -1,
	                       .group = (gid_t) -1};
	char why[512], path[128];

	(void) state;
	snprintf(verifier, sizeof(verifier), "%s/tests/unit/dkim_verify.py",
	         src != NULL ? src : ".");
	if (access(verifier, R_OK) != 0) {
		fprintf(stderr, "cannot find %s; set RELAYGATE_SOURCE_DIR\n",
		        verifier);
		return -1;
	}
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_signer.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return -1;
	for (int k = 0; k < NKEYS; k++) {
		snprintf(path, sizeof(path), "%s/key%d.pem", test_dir, k);
		gen.alg = k == 0 ? KEYS_ALG_RSA : KEYS_ALG_ED25519;
		if ((test_keys[k] =
		         keys_generate(path, &gen, why, sizeof(why))) == NULL) {
			fprintf(stderr, "keygen: %s\n", why);
			return -1;
		}
	}
	test_signer = signer_open(NULL, NULL, why, sizeof(why));
	if (test_signer == NULL)
		fprintf(stderr, "signer_open: %s\n", why);
	return test_signer == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void) state;
	signer_close(test_signer);
	for (int k = 0; k < NKEYS; k++)
		keys_free(test_keys[k]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", test_dir);
	return system(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_empty_body),
	    cmocka_unit_test(test_chunked_body),
	    cmocka_unit_test(test_folded_headers),
	    cmocka_unit_test(test_8bit),
	    cmocka_unit_test(test_bare_cr_lf),
	    cmocka_unit_test(test_many_headers),
	    cmocka_unit_test(test_duplicate_from),
	    cmocka_unit_test(test_odd_values),
	    cmocka_unit_test(test_tampering_detected),
	    cmocka_unit_test(test_no_from),
	    cmocka_unit_test(test_unsigned_odd_fields),
	    cmocka_unit_test(test_misuse),
	    cmocka_unit_test(test_too_many_signed),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_open_lists),
	    cmocka_unit_test(test_no_oversign),
	    cmocka_unit_test(test_verify_pass),
	    cmocka_unit_test(test_verify_altered),
	    cmocka_unit_test(test_verify_key_lookup),
	    cmocka_unit_test(test_verify_two),
	    cmocka_unit_test(test_verify_unsigned),
	    cmocka_unit_test(test_verify_misuse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
