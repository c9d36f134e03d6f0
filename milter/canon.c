/*
 * canon - relaxed canonicalization of header fields and of a streamed
 * body (RFC 6376 section 3.4).
 */

#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "util.h"

struct canon_body {
	canon_sink sink;
	void *arg;
	size_t blanks; /* empty lines held back: they may end the body */
	int wsp;       /* a run of spaces and tabs held back */
	int cr;        /* a CR held back: is it the start of CRLF? */
	int text;      /* the current line has text */
	size_t n;      /* bytes waiting in buf */
	unsigned char buf[CANON_PIECE];
};

/* Bytes that are not plain text to the body's canonicalization. */
static const unsigned char canon_special[256] = {
    [' '] = 1,
    ['\t'] = 1,
    ['\r'] = 1,
    ['\n'] = 1,
};

/* canon_header_max - room for a canonical field */
size_t
canon_header_max(size_t namelen, size_t valuelen)
{
	return namelen + valuelen + 3; /* ':' and CRLF */
}

/* canon_header - a field in relaxed form */
size_t
canon_header(char *out, const char *name, size_t namelen, const char *value,
             size_t valuelen, int crlf)
{
	size_t n = 0, start;
	int space = 0;

	while (namelen > 0 &&
	       (name[namelen - 1] == ' ' || name[namelen - 1] == '\t'))
		namelen--;
	for (size_t i = 0; i < namelen; i++) {
		char c = name[i];

		out[n++] = c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
	}
	out[n++] = ':';
	start = n;
	for (size_t i = 0; i < valuelen; i++) {
		char c = value[i];

		if (c == '\r' || c == '\n') /* unfolding */
			continue;
		if (c == ' ' || c == '\t') {
			space = n > start; /* none at the start */
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = 0;
		out[n++] = c;
	}
	if (crlf) {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	return n;
}

/* canon_body_new - a fresh stream */
struct canon_body *
canon_body_new(canon_sink sink, void *arg)
{
	struct canon_body *b = xmalloc(sizeof(*b));

	memset(b, 0, offsetof(struct canon_body, buf));
	b->sink = sink;
	b->arg = arg;
	return b;
}

/* canon_flush - hand the waiting bytes to the sink */
static void
canon_flush(struct canon_body *b)
{
	if (b->n == 0)
		return;
	b->sink(b->arg, b->buf, b->n);
	b->n = 0;
}

/* canon_put - canonical bytes out, through the buffer */
static void
canon_put(struct canon_body *b, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t room = sizeof(b->buf) - b->n;
		size_t k = len < room ? len : room;

		memcpy(b->buf + b->n, p, k);
		b->n += k;
		p += k;
		len -= k;
		if (b->n == sizeof(b->buf))
			canon_flush(b);
	}
}

/*
 * canon_text - text follows: the empty lines held back were not the end
 * of the body after all, and a run of spaces inside a line is one space.
 */
static void
canon_text(struct canon_body *b)
{
	if (!b->text) {
		for (; b->blanks > 0; b->blanks--)
			canon_put(b, "\r\n", 2);
		b->text = 1;
	}
	if (b->wsp) {
		canon_put(b, " ", 1);
		b->wsp = 0;
	}
}

/* canon_eol - a line ends: its trailing spaces go; an empty one waits */
static void
canon_eol(struct canon_body *b)
{
	b->wsp = 0;
	if (b->text) {
		canon_put(b, "\r\n", 2);
		b->text = 0;
	} else {
		b->blanks++;
	}
}

/*
 * canon_plain - how many bytes from p on are already canonical, given
 * that p[0] is text: text, and between text a single space or a CRLF (the
 * line before has text, the one after too).  Ordinary prose goes through
 * in long runs instead of a word at a time; the run ends on text, so the
 * stream's state after it is "in a line with text".
 */
static size_t
canon_plain(const unsigned char *p, size_t len)
{
	size_t i = 0;

	for (;;) {
		while (i < len && !canon_special[p[i]])
			i++;
		if (i + 1 < len && p[i] == ' ' && !canon_special[p[i + 1]])
			i += 2;
		else if (i + 2 < len && p[i] == '\r' && p[i + 1] == '\n' &&
		         !canon_special[p[i + 2]])
			i += 3;
		else
			return i;
	}
}

/* canon_body_update - one chunk through the state machine */
void
canon_body_update(struct canon_body *b, const unsigned char *chunk, size_t len)
{
	size_t i = 0, k;

	while (i < len) {
		unsigned char c = chunk[i];

		if (b->cr) { /* the CR before: CRLF, or a bare CR (text) */
			b->cr = 0;
			if (c == '\n') {
				canon_eol(b);
				i++;
				continue;
			}
			canon_text(b);
			canon_put(b, "\r", 1);
		}
		switch (c) {
		case '\r':
			b->cr = 1;
			i++;
			break;
		case '\n': /* a bare LF ends the line too (see canon.h) */
			canon_eol(b);
			i++;
			break;
		case ' ':
		case '\t':
			b->wsp = 1;
			i++;
			break;
		default:
			k = canon_plain(chunk + i, len - i);
			canon_text(b);
			canon_put(b, chunk + i, k);
			i += k;
			break;
		}
	}
}

/* canon_body_final - end the last line, drop trailing empty lines */
void
canon_body_final(struct canon_body *b)
{
	if (b->cr) {
		b->cr = 0;
		canon_eol(b);
	}
	if (b->text)
		canon_eol(b);
	canon_flush(b);
}

/* canon_body_free - release a stream */
void
canon_body_free(struct canon_body *b)
{
	free(b);
}
