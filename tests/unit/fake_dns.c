/*
 * fake_dns - dns.h answered from an in-memory table (see fake_dns.h).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain.h"
#include "fake_dns.h"
#include "util.h"

#define FAKE_DNS_CHAIN 8 /* CNAME links followed */

enum fake_dns_mode {
	FAKE_DNS_RECORD,
	FAKE_DNS_TEMPFAIL,
	FAKE_DNS_TIMEOUT,
	FAKE_DNS_DELAY,
};

struct fake_dns_entry {
	char *name; /* lowercase, no trailing dot; "*.x" is a wildcard */
	int qtype;  /* DNS_T_*; 0 with a mode: every type */
	enum fake_dns_mode mode;
	uint32_t ttl;
	int64_t delay_ms;
	unsigned char *data;
	size_t len;
};

struct fake_dns_logged {
	char *name;
	int qtype;
};

/* Parser state across the lines of one load. */
struct fake_dns_parse {
	char origin[DOMAIN_SIZE]; /* "" if names are absolute */
	char owner[DOMAIN_SIZE];
	uint32_t ttl;
	int line;
	char *why;
	size_t whylen;
};

/* One token of a line: a word or a quoted string, escapes resolved. */
struct fake_dns_token {
	char text[1024];
	size_t len;
	int quoted;
};

struct dns {
	int unused;
};

static struct fake_dns_entry *fake_dns_table;
static size_t fake_dns_n, fake_dns_cap;
static struct fake_dns_logged *fake_dns_log;
static size_t fake_dns_nlog, fake_dns_logcap;
static uint32_t fake_dns_negttl = 60;
static int64_t fake_dns_timeout = 3000;
static struct dns_stats fake_dns_counters;
static struct dns fake_dns_handle;
static fake_dns_hook_fn fake_dns_hook;
/* Guards the query log and the counters; the table is only read while
 * queries run. */
static pthread_mutex_t fake_dns_lock = PTHREAD_MUTEX_INITIALIZER;

/* fake_dns_norm - lowercase, without one trailing dot, fresh memory */
static char *
fake_dns_norm(const char *name)
{
	char *s = xstrdup(name);
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
	return util_lower(s);
}

/* fake_dns_push - append an entry to the table */
static struct fake_dns_entry *
fake_dns_push(const char *name, int qtype, enum fake_dns_mode mode)
{
	struct fake_dns_entry *e;

	if (fake_dns_n == fake_dns_cap) {
		fake_dns_cap = fake_dns_cap ? 2 * fake_dns_cap : 64;
		fake_dns_table = xrealloc(
		    fake_dns_table, fake_dns_cap * sizeof(*fake_dns_table));
	}
	e = &fake_dns_table[fake_dns_n++];
	memset(e, 0, sizeof(*e));
	e->name = fake_dns_norm(name);
	e->qtype = qtype;
	e->mode = mode;
	return e;
}

/* fake_dns_reset - forget every record and the query log */
void
fake_dns_reset(void)
{
	for (size_t i = 0; i < fake_dns_n; i++) {
		free(fake_dns_table[i].name);
		free(fake_dns_table[i].data);
	}
	for (size_t i = 0; i < fake_dns_nlog; i++)
		free(fake_dns_log[i].name);
	free(fake_dns_table);
	free(fake_dns_log);
	fake_dns_table = NULL;
	fake_dns_log = NULL;
	fake_dns_n = fake_dns_cap = fake_dns_nlog = fake_dns_logcap = 0;
	fake_dns_negttl = 60;
	fake_dns_timeout = 3000;
	fake_dns_hook = NULL;
	memset(&fake_dns_counters, 0, sizeof(fake_dns_counters));
}

/* fake_dns_add - one record with raw RDATA */
void
fake_dns_add(const char *name, int qtype, uint32_t ttl, const void *data,
             size_t len)
{
	struct fake_dns_entry *e = fake_dns_push(name, qtype, FAKE_DNS_RECORD);

	e->ttl = ttl;
	e->data = xmalloc(len);
	memcpy(e->data, data, len);
	e->len = len;
}

/* fake_dns_add_txt - one TXT record, cut into character-strings */
void
fake_dns_add_txt(const char *name, uint32_t ttl, const void *txt, size_t len)
{
	const unsigned char *s = txt;
	unsigned char *buf = xmalloc(len + len / 255 + 1);
	size_t n = 0;

	do {
		size_t chunk = len > 255 ? 255 : len;

		buf[n++] = (unsigned char) chunk;
		memcpy(buf + n, s, chunk);
		n += chunk;
		s += chunk;
		len -= chunk;
	} while (len > 0);
	fake_dns_add(name, DNS_T_TXT, ttl, buf, n);
	free(buf);
}

/* fake_dns_set_timeout - the fake resolver.timeout */
void
fake_dns_set_timeout(int64_t ms)
{
	fake_dns_timeout = ms;
}

/* fake_dns_set_hook - run hook first in every query */
void
fake_dns_set_hook(fake_dns_hook_fn hook)
{
	fake_dns_hook = hook;
}

/* fake_dns_query_count - queries since the last reset */
size_t
fake_dns_query_count(void)
{
	return fake_dns_nlog;
}

/* fake_dns_queried - how often a name was asked */
int
fake_dns_queried(const char *name, int qtype)
{
	char *n = fake_dns_norm(name);
	int count = 0;

	for (size_t i = 0; i < fake_dns_nlog; i++)
		if (strcmp(fake_dns_log[i].name, n) == 0 &&
		    (qtype == 0 || fake_dns_log[i].qtype == qtype))
			count++;
	free(n);
	return count;
}

/* fake_dns_query_name - the i-th query */
const char *
fake_dns_query_name(size_t i, int *qtype)
{
	if (i >= fake_dns_nlog)
		return NULL;
	if (qtype != NULL)
		*qtype = fake_dns_log[i].qtype;
	return fake_dns_log[i].name;
}

/*
 * fake_dns_fail - write "LINE: problem" and return -1.
 */
__attribute__((format(printf, 2, 3))) static int
fake_dns_fail(const struct fake_dns_parse *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->why == NULL || p->whylen == 0)
		return -1;
	n = snprintf(p->why, p->whylen, "line %d: ", p->line);
	if (n < 0 || (size_t) n >= p->whylen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->why + n, p->whylen - (size_t) n, fmt, ap);
	va_end(ap);
	return -1;
}

/* fake_dns_escape - "\X" or "\DDD" at s; the byte, and s advanced */
static int
fake_dns_escape(const char **s)
{
	const char *p = *s + 1;
	int v;

	if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
	    p[2] >= '0' && p[2] <= '9') {
		v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		*s = p + 3;
		return v > 255 ? -1 : v;
	}
	if (*p == '\0')
		return -1;
	*s = p + 1;
	return (unsigned char) *p;
}

/*
 * fake_dns_token - the next token of a line at *s: a quoted string or a
 * word, escapes resolved.  0 at the end of the line (or a comment), -1 on
 * a malformed token.
 */
static int
fake_dns_token(const char **s, struct fake_dns_token *t)
{
	const char *p = *s;
	int quoted;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (*p == '\0' || *p == ';' || *p == '\n')
		return 0;
	quoted = *p == '"';
	p += quoted;
	t->len = 0;
	t->quoted = quoted;
	while (*p != '\0' && *p != '\n' &&
	       (quoted ? *p != '"' : (*p != ' ' && *p != '\t' && *p != ';'))) {
		int c = *p == '\\' ? fake_dns_escape(&p) : (unsigned char) *p++;

		if (c < 0 || t->len + 1 >= sizeof(t->text))
			return -1;
		t->text[t->len++] = (char) c;
	}
	if (quoted && *p++ != '"')
		return -1;
	t->text[t->len] = '\0';
	*s = p;
	return 1;
}

/* fake_dns_type - a type mnemonic, or -1 */
static int
fake_dns_type(const char *s)
{
	static const struct {
		const char *name;
		int qtype;
	} types[] = {
	    {"A", DNS_T_A},   {"AAAA", DNS_T_AAAA}, {"TXT", DNS_T_TXT},
	    {"MX", DNS_T_MX}, {"PTR", DNS_T_PTR},   {"CNAME", DNS_T_CNAME},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].qtype;
	return -1;
}

/* fake_dns_absolute - a name of a line, made absolute with the origin */
static int
fake_dns_absolute(const struct fake_dns_parse *p, const char *name, char *out)
{
	size_t n = strlen(name);
	int len;

	if (strcmp(name, "@") == 0)
		len = snprintf(out, DOMAIN_SIZE + 8, "%s", p->origin);
	else if (p->origin[0] == '\0' || (n > 0 && name[n - 1] == '.'))
		len = snprintf(out, DOMAIN_SIZE + 8, "%s", name);
	else
		len = snprintf(out, DOMAIN_SIZE + 8, "%s.%s", name, p->origin);
	if (len < 0 || len > DOMAIN_SIZE + 4)
		return fake_dns_fail(p, "name too long");
	n = strlen(out);
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';
	return 0;
}

/* fake_dns_wire_name - a text name in RFC 1035 wire form at buf */
static size_t
fake_dns_wire_name(const char *name, unsigned char *buf)
{
	size_t n = 0;

	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t len = dot != NULL ? (size_t) (dot - name) : strlen(name);

		if (len > 63)
			len = 63;
		buf[n++] = (unsigned char) len;
		memcpy(buf + n, name, len);
		n += len;
		name += len;
		if (*name == '.')
			name++;
	}
	buf[n++] = 0;
	return n;
}

/* fake_dns_rdata - the RDATA of a line's record from its data tokens */
static int
fake_dns_rdata(const struct fake_dns_parse *p, int qtype, const char **s,
               unsigned char *buf, size_t *len)
{
	struct fake_dns_token t;
	char name[DOMAIN_SIZE + 8];
	long pref = 0;
	int rc;

	*len = 0;
	if (qtype == DNS_T_TXT) {
		while ((rc = fake_dns_token(s, &t)) > 0) {
			if (*len + t.len + 1 > 65535 || t.len > 255)
				return fake_dns_fail(p, "TXT string too long");
			buf[(*len)++] = (unsigned char) t.len;
			memcpy(buf + *len, t.text, t.len);
			*len += t.len;
		}
		return rc < 0 || *len == 0 ? fake_dns_fail(p, "bad TXT data")
		                           : 0;
	}
	if (fake_dns_token(s, &t) <= 0)
		return fake_dns_fail(p, "missing data");
	if (qtype == DNS_T_A || qtype == DNS_T_AAAA) {
		*len = qtype == DNS_T_A ? 4 : 16;
		return inet_pton(qtype == DNS_T_A ? AF_INET : AF_INET6, t.text,
		                 buf) == 1
		           ? 0
		           : fake_dns_fail(p, "bad address '%s'", t.text);
	}
	if (qtype == DNS_T_MX) {
		pref = strtol(t.text, NULL, 10);
		buf[0] = (unsigned char) (pref >> 8);
		buf[1] = (unsigned char) pref;
		*len = 2;
		if (fake_dns_token(s, &t) <= 0)
			return fake_dns_fail(p, "MX without a name");
	}
	if (fake_dns_absolute(p, t.text, name) < 0)
		return -1;
	*len += fake_dns_wire_name(name, buf + *len);
	return 0;
}

/* fake_dns_mode_line - "NAME TEMPFAIL|TIMEOUT|DELAY MS [TYPE]" */
static int
fake_dns_mode_line(const struct fake_dns_parse *p, const char *name,
                   const char *word, const char **s)
{
	struct fake_dns_token t;
	enum fake_dns_mode mode =
	    strcasecmp(word, "TEMPFAIL") == 0  ? FAKE_DNS_TEMPFAIL
	    : strcasecmp(word, "TIMEOUT") == 0 ? FAKE_DNS_TIMEOUT
	                                       : FAKE_DNS_DELAY;
	int64_t delay = 0;
	int qtype = 0;

	if (mode == FAKE_DNS_DELAY) {
		if (fake_dns_token(s, &t) <= 0)
			return fake_dns_fail(p, "DELAY without milliseconds");
		delay = strtoll(t.text, NULL, 10);
	}
	if (fake_dns_token(s, &t) > 0 && (qtype = fake_dns_type(t.text)) < 0)
		return fake_dns_fail(p, "unknown type '%s'", t.text);
	fake_dns_push(name, qtype, mode)->delay_ms = delay;
	return 0;
}

/* fake_dns_directive - "$TTL n", "$NEGTTL n", "$ORIGIN name" */
static int
fake_dns_directive(struct fake_dns_parse *p, const char *word, const char **s)
{
	struct fake_dns_token t;

	if (fake_dns_token(s, &t) <= 0)
		return fake_dns_fail(p, "%s without a value", word);
	if (strcasecmp(word, "$TTL") == 0)
		p->ttl = (uint32_t) strtoul(t.text, NULL, 10);
	else if (strcasecmp(word, "$NEGTTL") == 0)
		fake_dns_negttl = (uint32_t) strtoul(t.text, NULL, 10);
	else if (strcasecmp(word, "$ORIGIN") == 0)
		util_strlcpy(p->origin, t.text, sizeof(p->origin));
	else
		return fake_dns_fail(p, "unknown directive %s", word);
	return 0;
}

/* fake_dns_record_line - the rest of "NAME [TTL] [IN] TYPE DATA" */
static int
fake_dns_record_line(struct fake_dns_parse *p, const char *name,
                     struct fake_dns_token *t, const char **s)
{
	static unsigned char rdata[65536];
	uint32_t ttl = p->ttl;
	size_t len;
	int qtype;

	if (t->text[0] >= '0' && t->text[0] <= '9') {
		ttl = (uint32_t) strtoul(t->text, NULL, 10);
		if (fake_dns_token(s, t) <= 0)
			return fake_dns_fail(p, "missing type");
	}
	if (strcasecmp(t->text, "IN") == 0 && fake_dns_token(s, t) <= 0)
		return fake_dns_fail(p, "missing type");
	if ((qtype = fake_dns_type(t->text)) < 0)
		return fake_dns_fail(p, "unknown type '%s'", t->text);
	if (fake_dns_rdata(p, qtype, s, rdata, &len) < 0)
		return -1;
	fake_dns_add(name, qtype, ttl, rdata, len);
	return 0;
}

/* fake_dns_line - one line of zone text */
static int
fake_dns_line(struct fake_dns_parse *p, const char *s)
{
	struct fake_dns_token t;
	char name[DOMAIN_SIZE + 8];
	int blank = *s == ' ' || *s == '\t', rc;

	if ((rc = fake_dns_token(&s, &t)) <= 0)
		return rc < 0 ? fake_dns_fail(p, "bad token") : 0;
	if (t.text[0] == '$' && !t.quoted)
		return fake_dns_directive(p, t.text, &s);
	if (!blank) {
		if (fake_dns_absolute(p, t.text, p->owner) < 0)
			return -1;
		if (fake_dns_token(&s, &t) <= 0)
			return fake_dns_fail(p, "nothing after the name");
	}
	util_strlcpy(name, p->owner, sizeof(name));
	if (strcasecmp(t.text, "TEMPFAIL") == 0 ||
	    strcasecmp(t.text, "TIMEOUT") == 0 ||
	    strcasecmp(t.text, "DELAY") == 0)
		return fake_dns_mode_line(p, name, t.text, &s);
	return fake_dns_record_line(p, name, &t, &s);
}

/* fake_dns_load_origin - zone text with an origin ("" for none) */
static int
fake_dns_load_origin(const char *text, const char *origin, char *why,
                     size_t whylen)
{
	struct fake_dns_parse p;
	const char *line = text;

	memset(&p, 0, sizeof(p));
	util_strlcpy(p.origin, origin, sizeof(p.origin));
	util_strlcpy(p.owner, origin, sizeof(p.owner));
	p.ttl = 300;
	p.why = why;
	p.whylen = whylen;
	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		char *copy = xstrndup(line, end != NULL ? (size_t) (end - line)
		                                        : strlen(line));
		int rc;

		p.line++;
		rc = fake_dns_line(&p, copy);
		free(copy);
		if (rc < 0)
			return -1;
		line = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

/* fake_dns_load - zone text with absolute names */
int
fake_dns_load(const char *text, char *why, size_t whylen)
{
	return fake_dns_load_origin(text, "", why, whylen);
}

/* fake_dns_load_zone - a zone template file; origin from its name */
int
fake_dns_load_zone(const char *path, char *why, size_t whylen)
{
	const char *base = strrchr(path, '/');
	char origin[DOMAIN_SIZE], *text;
	FILE *f = fopen(path, "r");
	size_t n;
	long size;
	int rc;

	if (f == NULL)
		return util_why(why, whylen, "%s: %s", path, strerror(errno));
	base = base != NULL ? base + 1 : path;
	util_strlcpy(origin, base, sizeof(origin));
	if (strlen(origin) > 5 &&
	    strcmp(origin + strlen(origin) - 5, ".zone") == 0)
		origin[strlen(origin) - 5] = '\0';
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = xmalloc((size_t) (size > 0 ? size : 0) + 1);
	n = fread(text, 1, (size_t) (size > 0 ? size : 0), f);
	text[n] = '\0';
	fclose(f);
	rc = fake_dns_load_origin(text, origin, why, whylen);
	free(text);
	return rc;
}

/* fake_dns_match - does an entry's name match a query name? */
static int
fake_dns_match(const struct fake_dns_entry *e, const char *name, int wild)
{
	size_t n = strlen(name), m = strlen(e->name);

	if (!wild)
		return strcmp(e->name, name) == 0;
	return strncmp(e->name, "*.", 2) == 0 && n > m - 1 &&
	       strcmp(name + n - (m - 1), e->name + 1) == 0;
}

/* fake_dns_exists - does the name own anything, or have names below? */
static int
fake_dns_exists(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < fake_dns_n; i++) {
		const char *e = fake_dns_table[i].name;
		size_t m = strlen(e);

		if (strcmp(e, name) == 0 || (m > n && e[m - n - 1] == '.' &&
		                             strcmp(e + m - n, name) == 0))
			return 1;
	}
	return 0;
}

/* fake_dns_wild - should name use wildcard entries (it owns nothing)? */
static int
fake_dns_wild(const char *name)
{
	return !fake_dns_exists(name);
}

/* fake_dns_covered - does a wildcard make this name exist? */
static int
fake_dns_covered(const char *name)
{
	for (size_t i = 0; i < fake_dns_n; i++)
		if (fake_dns_match(&fake_dns_table[i], name, 1))
			return 1;
	return 0;
}

/* fake_dns_log_query - append to the query log */
static void
fake_dns_log_query(const char *name, int qtype)
{
	if (fake_dns_nlog == fake_dns_logcap) {
		fake_dns_logcap = fake_dns_logcap ? 2 * fake_dns_logcap : 64;
		fake_dns_log = xrealloc(
		    fake_dns_log, fake_dns_logcap * sizeof(*fake_dns_log));
	}
	fake_dns_log[fake_dns_nlog].name = fake_dns_norm(name);
	fake_dns_log[fake_dns_nlog++].qtype = qtype;
}

/* fake_dns_sleep - wait ms milliseconds */
static void
fake_dns_sleep(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t) (ms / 1000);
	ts.tv_nsec = (long) (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * fake_dns_mode_of - the TEMPFAIL/TIMEOUT/DELAY entry for a query, if
 * any (exact name first, then a wildcard).
 */
static const struct fake_dns_entry *
fake_dns_mode_of(const char *name, int qtype)
{
	for (int wild = 0; wild < 2; wild++)
		for (size_t i = 0; i < fake_dns_n; i++) {
			const struct fake_dns_entry *e = &fake_dns_table[i];

			if (e->mode != FAKE_DNS_RECORD &&
			    (e->qtype == 0 || e->qtype == qtype) &&
			    fake_dns_match(e, name, wild) &&
			    (!wild || fake_dns_wild(name)))
				return e;
		}
	return NULL;
}

/*
 * fake_dns_delay - apply a mode entry: 0 to go on and answer, -1 with a
 * TEMPFAIL reason in the answer.
 */
static int
fake_dns_delay(const struct fake_dns_entry *e, int64_t deadline,
               struct dns_answer *a)
{
	int64_t start = util_monotonic_ms(), end = start + fake_dns_timeout;

	if (deadline > 0 && deadline < end)
		end = deadline;
	if (e->mode == FAKE_DNS_TEMPFAIL) {
		a->rcode = 2;
		util_strlcpy(a->why, "SERVFAIL", sizeof(a->why));
		return -1;
	}
	if (e->mode == FAKE_DNS_DELAY && start + e->delay_ms < end) {
		fake_dns_sleep(e->delay_ms);
		return 0;
	}
	fake_dns_sleep(end - start);
	pthread_mutex_lock(&fake_dns_lock);
	fake_dns_counters.timeouts++;
	pthread_mutex_unlock(&fake_dns_lock);
	snprintf(a->why, sizeof(a->why), "timeout after %lld ms",
	         (long long) (end - start));
	return -1;
}

/* fake_dns_take - copy the matching records of name/qtype into a */
static size_t
fake_dns_take(struct dns_answer *a, const char *name, int qtype, int wild,
              uint32_t *ttl)
{
	size_t n = 0;

	for (size_t i = 0; i < fake_dns_n; i++) {
		const struct fake_dns_entry *e = &fake_dns_table[i];
		unsigned char *copy;

		if (e->mode != FAKE_DNS_RECORD || e->qtype != qtype ||
		    !fake_dns_match(e, name, wild))
			continue;
		a->rr = xrealloc(a->rr, (a->nrr + 1) * sizeof(*a->rr));
		copy = xmalloc(e->len ? e->len : 1);
		memcpy(copy, e->data, e->len);
		a->rr[a->nrr].data = copy;
		a->rr[a->nrr++].len = e->len;
		if (e->ttl < *ttl)
			*ttl = e->ttl;
		n++;
	}
	return n;
}

/* fake_dns_cname - the CNAME target of name, or NULL */
static const struct fake_dns_entry *
fake_dns_cname(const char *name, int wild)
{
	for (size_t i = 0; i < fake_dns_n; i++) {
		const struct fake_dns_entry *e = &fake_dns_table[i];

		if (e->mode == FAKE_DNS_RECORD && e->qtype == DNS_T_CNAME &&
		    fake_dns_match(e, name, wild))
			return e;
	}
	return NULL;
}

/* fake_dns_follow - add a CNAME link to the answer; the next name */
static char *
fake_dns_follow(struct dns_answer *a, const struct fake_dns_entry *c,
                uint32_t *ttl)
{
	struct dns_rr rr = {c->data, c->len};
	char target[DOMAIN_SIZE];

	if (dns_rr_name(&rr, DNS_T_CNAME, target, sizeof(target)) < 0)
		return NULL;
	util_lower(target);
	if (c->ttl < *ttl)
		*ttl = c->ttl;
	a->cnames = xrealloc(a->cnames, (a->ncnames + 1) * sizeof(char *));
	a->cnames[a->ncnames++] = xstrdup(target);
	free(a->canonname);
	a->canonname = xstrdup(target);
	return a->cnames[a->ncnames - 1];
}

/* fake_dns_resolve - records, CNAME chain, NODATA or NXDOMAIN */
static void
fake_dns_resolve(struct dns_answer *a, int64_t deadline)
{
	const char *name = a->qname;
	uint32_t ttl = UINT32_MAX;

	for (int link = 0; link <= FAKE_DNS_CHAIN && name != NULL; link++) {
		const struct fake_dns_entry *mode =
		    fake_dns_mode_of(name, a->qtype);
		int wild = fake_dns_wild(name);
		const struct fake_dns_entry *c;

		if (mode != NULL && fake_dns_delay(mode, deadline, a) < 0) {
			a->status = DNS_TEMPFAIL;
			return;
		}
		if (fake_dns_take(a, name, a->qtype, wild, &ttl) > 0) {
			a->status = DNS_OK;
			a->ttl = ttl;
			return;
		}
		c = a->qtype != DNS_T_CNAME ? fake_dns_cname(name, wild) : NULL;
		if (c == NULL) {
			a->status =
			    fake_dns_exists(name) || fake_dns_covered(name)
			        ? DNS_NODATA
			        : DNS_NXDOMAIN;
			a->rcode = a->status == DNS_NXDOMAIN ? 3 : 0;
			a->ttl = ttl < fake_dns_negttl ? ttl : fake_dns_negttl;
			return;
		}
		name = fake_dns_follow(a, c, &ttl);
	}
	a->status = DNS_TEMPFAIL;
	util_strlcpy(a->why, "CNAME chain too long", sizeof(a->why));
}

/* dns_open - the fake needs nothing */
struct dns *
dns_open(const struct config *cfg, char *why, size_t whylen)
{
	(void) cfg;
	(void) why;
	(void) whylen;
	return &fake_dns_handle;
}

/* dns_close - nothing to do */
void
dns_close(struct dns *dns)
{
	(void) dns;
}

/* dns_query - the table's answer, as dns.c would classify it */
struct dns_answer *
dns_query(struct dns *dns, const char *name, int qtype, int64_t deadline_ms)
{
	struct dns_answer *a;
	char why[128];

	(void) dns;
	if (fake_dns_hook != NULL) /* first: it may not return */
		fake_dns_hook(name, qtype);
	a = xcalloc(1, sizeof(*a));
	pthread_mutex_lock(&fake_dns_lock);
	fake_dns_log_query(name, qtype);
	fake_dns_counters.queries++;
	pthread_mutex_unlock(&fake_dns_lock);
	a->qname = fake_dns_norm(name);
	a->qtype = qtype;
	a->rcode = 0;
	if (domain_check(name, why, sizeof(why)) < 0) {
		a->status = DNS_TEMPFAIL;
		a->rcode = -1;
		snprintf(a->why, sizeof(a->why), "not a valid domain: %s", why);
	} else
		fake_dns_resolve(a, deadline_ms);
	pthread_mutex_lock(&fake_dns_lock);
	if (a->status == DNS_TEMPFAIL)
		fake_dns_counters.tempfails++;
	pthread_mutex_unlock(&fake_dns_lock);
	return a;
}

/* dns_answer_free - free an answer; NULL is fine */
void
dns_answer_free(struct dns_answer *answer)
{
	if (answer == NULL)
		return;
	for (size_t i = 0; i < answer->nrr; i++)
		free((void *) answer->rr[i].data);
	for (size_t i = 0; i < answer->ncnames; i++)
		free(answer->cnames[i]);
	free(answer->rr);
	free(answer->cnames);
	free(answer->canonname);
	free(answer->qname);
	free(answer);
}

/* dns_rr_txt - character-strings joined; -1 if malformed or too long */
long
dns_rr_txt(const struct dns_rr *rr, char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	for (size_t i = 0; i < rr->len;) {
		size_t len = rr->data[i++];

		if (len > rr->len - i || n + len >= size ||
		    memchr(rr->data + i, '\0', len) != NULL) {
			buf[0] = '\0';
			return -1;
		}
		memcpy(buf + n, rr->data + i, len);
		n += len;
		i += len;
	}
	buf[n] = '\0';
	return (long) n;
}

/* fake_dns_name_byte - one label byte as dns.h's names write it */
static size_t
fake_dns_name_byte(unsigned char c, char *out)
{
	if (c == '.' || c == '\\') {
		out[0] = '\\';
		out[1] = (char) c;
		return 2;
	}
	if (c <= 0x20 || c >= 0x7f)
		return (size_t) sprintf(out, "\\%03u", c);
	out[0] = (char) (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	return 1;
}

/*
 * dns_rr_name - the domain name in a CNAME, PTR or MX record, lowercase,
 * odd bytes escaped as in zone files, the root as ""
 */
int
dns_rr_name(const struct dns_rr *rr, int qtype, char *buf, size_t size)
{
	size_t i = qtype == DNS_T_MX ? 2 : 0, n = 0;
	char esc[8];

	if (size == 0 || i > rr->len)
		return -1;
	buf[0] = '\0';
	while (i < rr->len && rr->data[i] != 0) {
		size_t len = rr->data[i++];

		if (len > 63 || len > rr->len - i)
			return -1;
		if (n > 0 && n + 1 < size)
			buf[n++] = '.';
		for (size_t j = 0; j < len; j++) {
			size_t k = fake_dns_name_byte(rr->data[i + j], esc);

			if (n + k + 1 > size || n + k > DOMAIN_MAX)
				return -1;
			memcpy(buf + n, esc, k);
			n += k;
		}
		i += len;
	}
	if (i + 1 != rr->len)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* dns_stats - counters since the last reset */
void
dns_stats(const struct dns *dns, struct dns_stats *out)
{
	(void) dns;
	*out = fake_dns_counters;
}
