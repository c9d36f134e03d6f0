/*
 * mgen - the messages of a load run.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mgen.h"
#include "util.h"

#define MGEN_LINE 76 /* text bytes of a full body line */

struct mgen {
	char **domains;
	size_t ndomains;
	int random;
	char **xname; /* extra headers, split */
	char **xvalue;
	size_t nx;
	int bare;
	char *rcpt;    /* <rcpt> */
	char *to;      /* rcpt as a header value */
	char date[64]; /* one Date for the run */
	char *body;
	size_t body_len;
};

/* mgen_fill_body - n bytes of CRLF-ended text lines into buf */
void
mgen_fill_body(char *buf, size_t n)
{
	static const char text[] = "The quick brown fox jumps over the lazy "
	                           "dog while milters sign mail, 0123456789.";
	size_t len;

	while (n > 0) {
		len = n < MGEN_LINE + 2 ? n : MGEN_LINE + 2;
		if (n - len == 1)
			len--; /* leave room for a last empty line */
		if (len < 2) {
			*buf = '\n';
			return;
		}
		memcpy(buf, text, len - 2);
		memcpy(buf + len - 2, "\r\n", 2);
		buf += len;
		n -= len;
	}
}

/* mgen_split_header - "Name: value" into g's lists; -1 if no colon */
static int
mgen_split_header(struct mgen *g, const char *line)
{
	const char *colon = strchr(line, ':');
	size_t nlen;

	if (colon == NULL || colon == line)
		return -1;
	nlen = (size_t) (colon - line);
	while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
		nlen--;
	colon++;
	g->xname[g->nx] = xstrndup(line, nlen);
	g->xvalue[g->nx] =
	    *colon == ' ' ? xstrdup(colon) : xasprintf(" %s", colon);
	g->nx++;
	return 0;
}

/* mgen_copy_lists - domains and extra headers; -1 with a reason */
static int
mgen_copy_lists(struct mgen *g, const struct mgen_opts *o, char *why,
                size_t whylen)
{
	if (o->ndomains == 0)
		return util_why(why, whylen, "no sender domain");
	if (o->nheaders > MGEN_MAX_HEADERS - 8)
		return util_why(why, whylen, "more than %d extra headers",
		                MGEN_MAX_HEADERS - 8);
	g->domains = xcalloc(o->ndomains, sizeof(char *));
	for (size_t i = 0; i < o->ndomains; i++)
		g->domains[i] = xstrdup(o->domains[i]);
	g->ndomains = o->ndomains;
	g->xname = xcalloc(o->nheaders + 1, sizeof(char *));
	g->xvalue = xcalloc(o->nheaders + 1, sizeof(char *));
	for (size_t i = 0; i < o->nheaders; i++)
		if (mgen_split_header(g, o->headers[i]) < 0)
			return util_why(why, whylen, "header '%s': no 'Name:'",
			                o->headers[i]);
	return 0;
}

/* mgen_new - a generator; NULL with a reason if the options are bad */
struct mgen *
mgen_new(const struct mgen_opts *o, char *why, size_t whylen)
{
	struct mgen *g = xcalloc(1, sizeof(*g));
	time_t now = time(NULL);
	struct tm tm;

	if (mgen_copy_lists(g, o, why, whylen) < 0) {
		mgen_free(g);
		return NULL;
	}
	g->random = o->random;
	g->bare = o->bare;
	g->to = xstrdup(o->rcpt);
	g->rcpt = xasprintf("<%s>", o->rcpt);
	gmtime_r(&now, &tm);
	strftime(g->date, sizeof(g->date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	g->body_len = o->body_size;
	g->body = xmalloc(o->body_size + 1);
	mgen_fill_body(g->body, o->body_size);
	return g;
}

/* mgen_free - release it; NULL is fine */
void
mgen_free(struct mgen *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->ndomains; i++)
		free(g->domains[i]);
	for (size_t i = 0; i < g->nx; i++) {
		free(g->xname[i]);
		free(g->xvalue[i]);
	}
	free(g->domains);
	free(g->xname);
	free(g->xvalue);
	free(g->rcpt);
	free(g->to);
	free(g->body);
	free(g);
}

/* mgen_add - one header of m; value formatted into m's storage */
static void __attribute__((format(printf, 4, 5)))
mgen_add(struct mgen_message *m, size_t *used, const char *name,
         const char *fmt, ...)
{
	size_t left = sizeof(m->storage) - *used;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m->storage + *used, left, fmt, ap); /* " value" */
	va_end(ap);
	m->name[m->nheaders] = name;
	m->value[m->nheaders++] = m->storage + *used;
	*used += n < 0 ? 0 : (size_t) n >= left ? left - 1 : (size_t) n;
	if (*used < sizeof(m->storage))
		(*used)++;
}

/* mgen_std_headers - the standard header set of message seq */
static void
mgen_std_headers(const struct mgen *g, unsigned long seq,
                 struct mgen_message *m)
{
	size_t used = 0;

	mgen_add(m, &used, "From", " Sender <%s>", m->mail_addr);
	mgen_add(m, &used, "To", " <%s>", g->to);
	if (g->bare)
		return;
	mgen_add(m, &used, "Subject", " miltload message %lu", seq);
	mgen_add(m, &used, "Date", " %s", g->date);
	mgen_add(m, &used, "Message-ID", " <%lu.miltload@%s>", seq, m->domain);
	mgen_add(m, &used, "MIME-Version", "%s", " 1.0");
	mgen_add(m, &used, "Content-Type", "%s",
	         " text/plain; charset=us-ascii");
}

/* mgen_message - message number seq */
void
mgen_message(const struct mgen *g, unsigned long seq, unsigned *seed,
             struct mgen_message *m)
{
	size_t d =
	    g->random ? (size_t) rand_r(seed) % g->ndomains : seq % g->ndomains;

	m->domain = g->domains[d];
	m->nheaders = 0;
	snprintf(m->mail_addr, sizeof(m->mail_addr), "sender@%s", m->domain);
	snprintf(m->sender, sizeof(m->sender), "<%s>", m->mail_addr);
	mgen_std_headers(g, seq, m);
	for (size_t i = 0; i < g->nx; i++) {
		m->name[m->nheaders] = g->xname[i];
		m->value[m->nheaders++] = g->xvalue[i];
	}
}

/* mgen_rcpt - the recipient, with angle brackets */
const char *
mgen_rcpt(const struct mgen *g)
{
	return g->rcpt;
}

/* mgen_body - the body every message carries, and its length */
const void *
mgen_body(const struct mgen *g, size_t *len)
{
	*len = g->body_len;
	return g->body;
}
