/*
 * spf_record_lint - test helper: the spf_record verdict for each line of
 * standard input.
 *
 * Usage: spf_record_lint [-x] [-e]
 *	-x	each line is the hex encoding of the bytes (records of the RFC
 *		7208 test suite contain NUL, CR and non-ASCII bytes)
 *	-e	check explanation strings instead of records
 *
 * One output line per input line: "valid NTERMS DNS_TERMS", "not-spf" or
 * "invalid REASON" (explanations: "valid" or "invalid REASON").
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spf_record.h"

/* lint_unhex - decode hex in place; returns the length or -1 */
static long
lint_unhex(char *s, size_t len)
{
	size_t n = 0;

	if (len % 2 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		unsigned v;

		if (sscanf(s + i, "%2x", &v) != 1)
			return -1;
		s[n++] = (char) v;
	}
	return (long) n;
}

/* lint_one - print the verdict on one input */
static void
lint_one(const char *txt, size_t len, int explain)
{
	static struct spf_record rec;
	char why[512];

	if (explain) {
		if (spf_record_explain_check(txt, len, why, sizeof(why)) == 0)
			printf("valid\n");
		else
			printf("invalid %s\n", why);
		return;
	}
	switch (spf_record_parse(txt, len, &rec, why, sizeof(why))) {
	case SPF_RECORD_OK:
		printf("valid %d %d\n", rec.nterms, rec.dns_terms);
		break;
	case SPF_RECORD_NOT_SPF:
		printf("not-spf\n");
		break;
	case SPF_RECORD_INVALID:
		printf("invalid %s\n", why);
		break;
	}
}

int
main(int argc, char **argv)
{
	int hex = 0, explain = 0, c;
	char *line = NULL;
	size_t size = 0;
	ssize_t len;

	while ((c = getopt(argc, argv, "xe")) != -1) {
		if (c == 'x')
			hex = 1;
		else if (c == 'e')
			explain = 1;
		else
			return 2;
	}
	while ((len = getline(&line, &size, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (hex && (len = lint_unhex(line, (size_t) len)) < 0) {
			printf("error bad hex\n");
			continue;
		}
		lint_one(line, (size_t) len, explain);
	}
	free(line);
	return 0;
}
