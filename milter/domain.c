/*
 * domain - DNS domain names in the one form relaygate stores and compares.
 */

#include <string.h>

#include <idn2.h>

#include "domain.h"
#include "log.h"
#include "util.h"

/* domain_label_char - may this byte appear in an ASCII label? */
static int
domain_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/*
 * domain_check_ascii - the label rules on a lowercase ASCII name without
 * trailing dot.  Hyphens may not start or end a label (RFC 952/1123).
 */
static int
domain_check_ascii(const char *name, char *why, size_t whylen)
{
	size_t len = strlen(name);
	const char *label = name;

	if (len == 0)
		return util_why(why, whylen, "empty domain name");
	if (len > DOMAIN_MAX)
		return util_why(why, whylen, "domain name longer than %d bytes",
		                DOMAIN_MAX);
	for (const char *p = name;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t n = (size_t) (p - label);

			if (n == 0)
				return util_why(why, whylen,
				                "empty label in domain name");
			if (n > 63)
				return util_why(why, whylen,
				                "label longer than 63 bytes");
			if (label[0] == '-' || p[-1] == '-')
				return util_why(
				    why, whylen,
				    "label '%.*s' starts or ends with '-'",
				    (int) n, label);
			if (*p == '\0')
				return 0;
			label = p + 1;
		} else if (!domain_label_char((unsigned char) *p)) {
			return util_why(
			    why, whylen,
			    "invalid character 0x%02x in domain name",
			    (unsigned char) *p);
		}
	}
}

/* domain_has_8bit - does the name contain non-ASCII bytes? */
static int
domain_has_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s >= 0x80)
			return 1;
	return 0;
}

/* domain_to_alabel - IDNA2008 conversion of a UTF-8 name */
static int
domain_to_alabel(const char *in, char *out, size_t outsize, char *why,
                 size_t whylen)
{
	char *ascii = NULL;
	int rc = idn2_to_ascii_8z(in, &ascii, IDN2_NONTRANSITIONAL);

	if (rc != IDN2_OK)
		return util_why(why, whylen,
		                "invalid internationalized "
		                "domain name: %s",
		                idn2_strerror(rc));
	if (util_strlcpy(out, ascii, outsize) >= outsize) {
		idn2_free(ascii);
		return util_why(why, whylen, "domain name too long");
	}
	idn2_free(ascii);
	return 0;
}

/* domain_normalize - validate and write the normalized form */
int
domain_normalize(const char *in, char *out, size_t outsize, char *why,
                 size_t whylen)
{
	size_t len = strlen(in);
	char tmp[4 * DOMAIN_SIZE];

	if (outsize < DOMAIN_SIZE)
		panic("domain_normalize: output buffer too small");
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len >= sizeof(tmp))
		return util_why(why, whylen, "domain name too long");
	memcpy(tmp, in, len);
	tmp[len] = '\0';
	if (domain_has_8bit(tmp)) {
		if (domain_to_alabel(tmp, out, outsize, why, whylen) < 0)
			return -1;
	} else if (util_strlcpy(out, tmp, outsize) >= outsize) {
		return util_why(why, whylen, "domain name longer than %d bytes",
		                DOMAIN_MAX);
	}
	util_lower(out);
	return domain_check_ascii(out, why, whylen);
}

/* domain_check - validate without keeping the result */
int
domain_check(const char *in, char *why, size_t whylen)
{
	char out[DOMAIN_SIZE];

	return domain_normalize(in, out, sizeof(out), why, whylen);
}
