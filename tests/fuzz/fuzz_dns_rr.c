/*
 * fuzz_dns_rr - libFuzzer harness for the dns module's record data
 * parsers, dns_rr_txt() and dns_rr_name().
 *
 * Input: byte 0 picks the record type (CNAME, PTR, MX, TXT, or one the
 * parsers must refuse), byte 1 the output buffer size (0..255, or a
 * large one), the rest is the RDATA.  Invariants checked (a violation
 * traps):
 *  - no crash, no read outside the RDATA (copied into an exactly sized
 *    buffer for ASan), no write outside the output buffer;
 *  - the output is always terminated, "" on failure;
 *  - TXT: the length returned is the text's length, the text holds no
 *    NUL, and it equals the character-strings concatenated (computed
 *    here independently);
 *  - names: the text unescapes to the lowercased wire labels, consuming
 *    all of the RDATA (after the MX preference);
 *  - other types are refused.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

#define FUZZ_BIG 70000

static const int fuzz_types[] = {DNS_T_CNAME, DNS_T_PTR, DNS_T_MX,
                                 DNS_T_TXT,   DNS_T_A,   DNS_T_AAAA};

/* fuzz_lower - ASCII lowercase */
static unsigned char
fuzz_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char) (c + 32) : c;
}

/* fuzz_txt_check - an accepted TXT equals the strings concatenated */
static void
fuzz_txt_check(const unsigned char *rd, size_t len, const char *text, long n)
{
	size_t in = 0, out = 0;

	FUZZ_CHECK(n >= 0 && strlen(text) == (size_t) n);
	while (in < len) {
		size_t k = rd[in++];

		FUZZ_CHECK(k <= len - in);
		FUZZ_CHECK(memcmp(text + out, rd + in, k) == 0);
		in += k;
		out += k;
	}
	FUZZ_CHECK(out == (size_t) n && len > 0);
}

/* fuzz_unescape - one presentation-format byte at *p; advances *p */
static unsigned char
fuzz_unescape(const char **p)
{
	const char *s = *p;

	if (*s != '\\') {
		*p = s + 1;
		return (unsigned char) *s;
	}
	if (s[1] >= '0' && s[1] <= '9') {
		FUZZ_CHECK(s[2] >= '0' && s[2] <= '9' && s[3] >= '0' &&
		           s[3] <= '9');
		*p = s + 4;
		return (unsigned char) ((s[1] - '0') * 100 + (s[2] - '0') * 10 +
		                        (s[3] - '0'));
	}
	*p = s + 2;
	return (unsigned char) s[1];
}

/* fuzz_name_check - an accepted name's text matches its wire form */
static void
fuzz_name_check(const unsigned char *w, size_t len, const char *text)
{
	size_t i = 0;
	const char *p = text;

	while (i < len && w[i] != 0) {
		if (i > 0)
			FUZZ_CHECK(*p++ == '.');
		for (size_t j = 1; j <= w[i]; j++) {
			FUZZ_CHECK(*p != '\0' && *p != '.');
			FUZZ_CHECK(fuzz_unescape(&p) == fuzz_lower(w[i + j]));
		}
		i += 1 + w[i];
	}
	FUZZ_CHECK(*p == '\0');
	FUZZ_CHECK(i + 1 == len && w[i] == 0 && len <= 255);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int qtype;
	size_t bufsize, len;
	unsigned char *rd;
	char *buf;
	struct dns_rr rr;

	if (size < 2)
		return 0;
	qtype = fuzz_types[data[0] % (sizeof(fuzz_types) / sizeof(int))];
	bufsize = data[1] == 255 ? FUZZ_BIG : data[1];
	len = size - 2;
	rd = malloc(len ? len : 1);
	memcpy(rd, data + 2, len);
	buf = malloc(bufsize ? bufsize : 1);
	rr.data = rd;
	rr.len = len;
	if (qtype == DNS_T_TXT) {
		long n = dns_rr_txt(&rr, buf, bufsize);

		if (bufsize > 0)
			FUZZ_CHECK(n >= 0 || buf[0] == '\0');
		if (n >= 0)
			fuzz_txt_check(rd, len, buf, n);
	} else {
		int r = dns_rr_name(&rr, qtype, buf, bufsize);

		FUZZ_CHECK(r == 0 || r == -1);
		if (bufsize > 0)
			FUZZ_CHECK(r == 0 || buf[0] == '\0');
		FUZZ_CHECK(r == -1 || qtype != DNS_T_A);
		FUZZ_CHECK(r == -1 || qtype != DNS_T_AAAA);
		if (r == 0 && qtype == DNS_T_MX)
			fuzz_name_check(rd + 2, len - 2, buf);
		else if (r == 0)
			fuzz_name_check(rd, len, buf);
	}
	free(buf);
	free(rd);
	return 0;
}
