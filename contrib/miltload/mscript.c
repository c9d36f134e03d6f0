/*
 * mscript - milter sessions driven by a small script.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mgen.h"
#include "mscript.h"
#include "util.h"

#define MSCRIPT_MAX_ARGS 32

/* The state of one script run. */
struct mscript {
	const struct mconn_addr *addr;
	const struct msession_opts *opts;
	FILE *out;
	struct msession *s; /* NULL between sessions */
	const char *cmd;    /* the command being run, for output lines */
	int quiet;          /* reply lines suppressed (headers) */
	unsigned long seq;  /* messages begun, for queue ids */
	unsigned errors;
	const char *file;
	unsigned line;
};

typedef int (*mscript_fn)(struct mscript *m, char *arg);

/* mscript_syntax - a script error; returns -1 */
static int __attribute__((format(printf, 2, 3)))
mscript_syntax(const struct mscript *m, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "miltload: %s:%u: ", m->file, m->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* mscript_unescape - \\ \t \r \n \" \xHH in place; returns the length */
static size_t
mscript_unescape(char *s)
{
	char *start = s, *w = s, hex[3] = {0, 0, 0};

	for (; *s != '\0'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			*w++ = *s;
			continue;
		}
		s++;
		if (*s == 'x' && isxdigit((unsigned char) s[1]) &&
		    isxdigit((unsigned char) s[2])) {
			memcpy(hex, s + 1, 2);
			*w++ = (char) strtol(hex, NULL, 16);
			s += 2;
			continue;
		}
		*w++ = *s == 't'   ? '\t'
		       : *s == 'r' ? '\r'
		       : *s == 'n' ? '\n'
		                   : *s;
	}
	*w = '\0';
	return (size_t) (w - start);
}

/* mscript_quote - text in double quotes, escaped for one line */
static void
mscript_quote(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\t' || c == '\r' || c == '\n')
			fprintf(f, "\\%c",
			        c == '\t'   ? 't'
			        : c == '\r' ? 'r'
			                    : 'n');
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* mscript_kv - " key=" and a quoted value */
static void
mscript_kv(FILE *f, const char *key, const char *v)
{
	fprintf(f, " %s=", key);
	mscript_quote(f, v != NULL ? v : "", v != NULL ? strlen(v) : 0);
}

/* mscript_print_reply - the fields of one reply */
static void
mscript_print_reply(FILE *f, const struct mproto_reply *r)
{
	switch (r->code) {
	case MPROTO_R_INSHEADER:
	case MPROTO_R_CHGHEADER:
		fprintf(f, " index=%lu", (unsigned long) r->index);
		mscript_kv(f, "name", r->name);
		mscript_kv(f, "value", r->value);
		break;
	case MPROTO_R_ADDHEADER:
		mscript_kv(f, "name", r->name);
		mscript_kv(f, "value", r->value);
		break;
	case MPROTO_R_REPLYCODE:
		mscript_kv(f, "text", r->text);
		break;
	case MPROTO_R_QUARANTINE:
		mscript_kv(f, "reason", r->text);
		break;
	case MPROTO_R_CHGFROM:
	case MPROTO_R_ADDRCPT_PAR:
		mscript_kv(f, "addr", r->name);
		mscript_kv(f, "args", r->value);
		break;
	case MPROTO_R_ADDRCPT:
	case MPROTO_R_DELRCPT:
		mscript_kv(f, "addr", r->name);
		break;
	case MPROTO_R_REPLBODY:
		fprintf(f, " bytes=%zu", r->len);
		break;
	}
}

/* mscript_on_reply - msession callback: one line per reply */
static void
mscript_on_reply(void *arg, unsigned char event, const struct mproto_reply *r)
{
	struct mscript *m = arg;

	(void) event;
	if (m->quiet)
		return;
	fprintf(m->out, "%s %s", m->cmd, mproto_reply_name(r->code));
	mscript_print_reply(m->out, r);
	fputc('\n', m->out);
}

/* mscript_error - an error line; the session ends */
static void
mscript_error(struct mscript *m, const char *kind, const char *why)
{
	fprintf(m->out, "%s error kind=%s", m->cmd, kind);
	mscript_kv(m->out, "why", why);
	fputc('\n', m->out);
	m->errors++;
	msession_close(m->s);
	m->s = NULL;
}

/* mscript_done - print how an event went; 0 (a script error is not) */
static int
mscript_done(struct mscript *m, enum mconn_status st,
             const struct msession_result *res, const char *why)
{
	if (st != MCONN_OK)
		mscript_error(m, mconn_status_name(st), why);
	else if (res->how == MSESSION_SKIPPED)
		fprintf(m->out, "%s skipped\n", m->cmd);
	else if (res->how == MSESSION_NOREPLY)
		fprintf(m->out, "%s noreply\n", m->cmd);
	return 0;
}

/* mscript_session - the open session, or an error line (0) */
static struct msession *
mscript_session(struct mscript *m)
{
	if (m->s == NULL)
		mscript_error(m, "nosession", "no open session");
	return m->s;
}

/* mscript_split - words of arg into argv (modifies arg); their count */
static size_t
mscript_split(char *arg, char **argv, size_t max)
{
	size_t n = 0;
	char *save = NULL, *w;

	for (w = strtok_r(arg, " \t", &save); w != NULL && n < max;
	     w = strtok_r(NULL, " \t", &save)) {
		mscript_unescape(w);
		argv[n++] = w;
	}
	return n;
}

/* mscript_print_neg - the "open" lines */
static void
mscript_print_neg(struct mscript *m)
{
	static const char *const stages[MPROTO_M_COUNT] = {
	    "connect", "helo", "envfrom", "envrcpt", "data", "eom", "eoh"};
	const struct msession_neg *n = msession_negotiated(m->s);

	fprintf(m->out, "open version=%lu actions=0x%lx protocol=0x%lx\n",
	        (unsigned long) n->version, (unsigned long) n->actions,
	        (unsigned long) n->protocol);
	for (int i = 0; i < MPROTO_M_COUNT; i++) {
		if (n->macros[i] == NULL)
			continue;
		fprintf(m->out, "open symlist stage=%s", stages[i]);
		mscript_kv(m->out, "macros", n->macros[i]);
		fputc('\n', m->out);
	}
}

/* mscript_open - open: connect and negotiate */
static int
mscript_open(struct mscript *m, char *arg)
{
	char why[256];
	enum mconn_status st;

	(void) arg;
	msession_close(m->s);
	m->s = NULL;
	st = msession_open(m->addr, m->opts, &m->s, why, sizeof(why));
	if (st != MCONN_OK) {
		mscript_error(m, mconn_status_name(st), why);
		return 0;
	}
	msession_on_reply(m->s, mscript_on_reply, m);
	mmacro_session_defaults(msession_macros(m->s));
	mscript_print_neg(m);
	return 0;
}

/* mscript_family - the SMFIA_* family of an address text */
static char
mscript_family(const char *addr)
{
	if (strcmp(addr, "unknown") == 0)
		return MPROTO_FAMILY_UNKNOWN;
	if (addr[0] == '/')
		return MPROTO_FAMILY_UNIX;
	return strchr(addr, ':') != NULL ? MPROTO_FAMILY_INET6
	                                 : MPROTO_FAMILY_INET;
}

/* mscript_connect - connect [HOST [ADDR [PORT]]] */
static int
mscript_connect(struct mscript *m, char *arg)
{
	char *argv[3], why[256], under[600];
	size_t n = mscript_split(arg, argv, 3);
	const char *host = n > 0 ? argv[0] : "client.test";
	const char *addr = n > 1 ? argv[1] : "127.0.0.1";
	long port = n > 2 ? strtol(argv[2], NULL, 10) : 4711;
	struct msession_result res;
	enum mconn_status st;

	if (port < 0 || port > 65535)
		return mscript_syntax(m, "bad port '%s'", argv[2]);
	if (m->s == NULL && mscript_open(m, NULL) == 0 && m->s == NULL)
		return 0;
	snprintf(under, sizeof(under), "%s [%s]", host, addr);
	mmacro_set(msession_macros(m->s), "_", under);
	st = msession_connect(m->s, host, mscript_family(addr), (uint16_t) port,
	                      addr, &res, why, sizeof(why));
	return mscript_done(m, st, &res, why);
}

/* mscript_helo - helo [NAME] */
static int
mscript_helo(struct mscript *m, char *arg)
{
	char why[256];
	struct msession_result res;
	enum mconn_status st;

	mscript_unescape(arg);
	if (mscript_session(m) == NULL)
		return 0;
	st = msession_helo(m->s, *arg ? arg : "client.test", &res, why,
	                   sizeof(why));
	return mscript_done(m, st, &res, why);
}

/* mscript_addr - argv[0] in angle brackets unless it has them */
static void
mscript_addr(char *buf, size_t size, const char *a)
{
	if (a[0] == '<')
		util_strlcpy(buf, a, size);
	else
		snprintf(buf, size, "<%s>", a);
}

/* mscript_bare - the address without angle brackets, for {mail_addr} */
static void
mscript_bare(char *buf, size_t size, const char *a)
{
	size_t n = strlen(a);

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
		snprintf(buf, size, "%.*s", (int) (n - 2), a + 1);
	else
		util_strlcpy(buf, a, size);
}

/* mscript_envelope - mail or rcpt ADDR [PARAM ...] */
static int
mscript_envelope(struct mscript *m, char *arg, int is_mail)
{
	char *argv[MSCRIPT_MAX_ARGS], why[256], addr[1024], bare[1024];
	size_t n = mscript_split(arg, argv, MSCRIPT_MAX_ARGS);
	struct msession_result res;
	enum mconn_status st;
	char qid[16];

	if (n == 0)
		return mscript_syntax(m, "%s needs an address", m->cmd);
	if (mscript_session(m) == NULL)
		return 0;
	mscript_addr(addr, sizeof(addr), argv[0]);
	mscript_bare(bare, sizeof(bare), addr);
	argv[0] = addr;
	if (is_mail) {
		mmacro_queue_id(qid, sizeof(qid), 0, ++m->seq);
		fprintf(m->out, "queue_id %s\n", qid);
		mmacro_set(msession_macros(m->s), "i", qid);
		mmacro_set(msession_macros(m->s), "{mail_addr}", bare);
		st = msession_mail(m->s, (const char *const *) argv, n, &res,
		                   why, sizeof(why));
	} else {
		mmacro_set(msession_macros(m->s), "{rcpt_addr}", bare);
		st = msession_rcpt(m->s, (const char *const *) argv, n, &res,
		                   why, sizeof(why));
	}
	return mscript_done(m, st, &res, why);
}

/* mscript_mail - mail ADDR [PARAM ...] */
static int
mscript_mail(struct mscript *m, char *arg)
{
	return mscript_envelope(m, arg, 1);
}

/* mscript_rcpt - rcpt ADDR [PARAM ...] */
static int
mscript_rcpt(struct mscript *m, char *arg)
{
	return mscript_envelope(m, arg, 0);
}

/* An event without arguments (data, eoh, eom). */
typedef enum mconn_status (*mscript_event_fn)(struct msession *,
                                              struct msession_result *, char *,
                                              size_t);

/* mscript_event - run one such event and print how it went */
static int
mscript_event(struct mscript *m, mscript_event_fn fn)
{
	char why[256];
	struct msession_result res;
	enum mconn_status st;

	if (mscript_session(m) == NULL)
		return 0;
	st = fn(m->s, &res, why, sizeof(why));
	return mscript_done(m, st, &res, why);
}

/* mscript_data - data */
static int
mscript_data(struct mscript *m, char *arg)
{
	(void) arg;
	return mscript_event(m, msession_data);
}

/* mscript_header - header NAME: VALUE */
static int
mscript_header(struct mscript *m, char *arg)
{
	char why[256], *colon, *end, *value;
	struct msession_result res;
	enum mconn_status st;

	mscript_unescape(arg);
	if ((colon = strchr(arg, ':')) == NULL || colon == arg)
		return mscript_syntax(m, "header needs 'NAME: VALUE'");
	if (mscript_session(m) == NULL)
		return 0;
	for (end = colon; end > arg && (end[-1] == ' ' || end[-1] == '\t');)
		end--;
	*end = '\0';
	value = colon + 1;
	if (*value == ' ' && !msession_wants_leading_space(m->s))
		value++;
	st = msession_header(m->s, arg, value, &res, why, sizeof(why));
	return mscript_done(m, st, &res, why);
}

/* mscript_fill_headers - send count headers of size bytes; how many went */
static unsigned long
mscript_fill_headers(struct mscript *m, unsigned long count, size_t size,
                     struct msession_result *res, enum mconn_status *st,
                     char *why, size_t whylen)
{
	char *value = xmalloc(size + 1), name[32];
	unsigned long i;

	memset(value, 'a', size);
	value[size] = '\0';
	*st = MCONN_OK;
	memset(res, 0, sizeof(*res));
	for (i = 0; i < count && *st == MCONN_OK; i++) {
		snprintf(name, sizeof(name), "X-Fill-%lu", i + 1);
		*st = msession_header(m->s, name, value, res, why, whylen);
		if (res->how == MSESSION_REPLIED &&
		    res->code != MPROTO_R_CONTINUE) {
			i++;
			break;
		}
	}
	free(value);
	return i;
}

/* mscript_headers - headers COUNT SIZE: one summary line */
static int
mscript_headers(struct mscript *m, char *arg)
{
	char *argv[2], why[256];
	struct msession_result res;
	enum mconn_status st;
	unsigned long sent;

	if (mscript_split(arg, argv, 2) != 2)
		return mscript_syntax(m, "headers needs COUNT SIZE");
	if (mscript_session(m) == NULL)
		return 0;
	m->quiet = 1;
	sent = mscript_fill_headers(m, strtoul(argv[0], NULL, 10),
	                            strtoul(argv[1], NULL, 10), &res, &st, why,
	                            sizeof(why));
	m->quiet = 0;
	if (st != MCONN_OK)
		return mscript_done(m, st, &res, why);
	fprintf(m->out, "headers count=%lu %s\n", sent,
	        res.how == MSESSION_REPLIED   ? mproto_reply_name(res.code)
	        : res.how == MSESSION_NOREPLY ? "noreply"
	                                      : "skipped");
	return 0;
}

/* mscript_eoh - eoh */
static int
mscript_eoh(struct mscript *m, char *arg)
{
	(void) arg;
	return mscript_event(m, msession_eoh);
}

/* mscript_send_body - body bytes as one command */
static int
mscript_send_body(struct mscript *m, const char *p, size_t n)
{
	char why[256];
	struct msession_result res;
	enum mconn_status st;

	if (mscript_session(m) == NULL)
		return 0;
	st = msession_body(m->s, p, n, &res, why, sizeof(why));
	return mscript_done(m, st, &res, why);
}

/* mscript_body - body TEXT: one line with CRLF */
static int
mscript_body(struct mscript *m, char *arg)
{
	size_t n = mscript_unescape(arg);
	char *line = xmalloc(n + 3);
	int rc;

	memcpy(line, arg, n);
	memcpy(line + n, "\r\n", 3);
	rc = mscript_send_body(m, line, n + 2);
	free(line);
	return rc;
}

/* mscript_body_raw - body-raw TEXT */
static int
mscript_body_raw(struct mscript *m, char *arg)
{
	size_t n = mscript_unescape(arg);

	return mscript_send_body(m, arg, n);
}

/* mscript_body_bytes - body-bytes N */
static int
mscript_body_bytes(struct mscript *m, char *arg)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);
	char *body;
	int rc;

	if (end == arg || n > 1UL << 30)
		return mscript_syntax(m, "body-bytes needs a byte count");
	body = xmalloc(n + 1);
	mgen_fill_body(body, n);
	rc = mscript_send_body(m, body, n);
	free(body);
	return rc;
}

/* mscript_eom - eom */
static int
mscript_eom(struct mscript *m, char *arg)
{
	(void) arg;
	return mscript_event(m, msession_eom);
}

/* mscript_abort_quit - abort or quit: no reply; quit also closes */
static int
mscript_abort_quit(struct mscript *m, int quit)
{
	char why[256];
	enum mconn_status st;

	if (mscript_session(m) == NULL)
		return 0;
	st = quit ? msession_quit(m->s, why, sizeof(why))
	          : msession_abort(m->s, why, sizeof(why));
	if (st != MCONN_OK) {
		mscript_error(m, mconn_status_name(st), why);
		return 0;
	}
	fprintf(m->out, "%s sent\n", m->cmd);
	if (quit) {
		msession_close(m->s);
		m->s = NULL;
	}
	return 0;
}

/* mscript_abort - abort */
static int
mscript_abort(struct mscript *m, char *arg)
{
	(void) arg;
	return mscript_abort_quit(m, 0);
}

/* mscript_quit - quit */
static int
mscript_quit(struct mscript *m, char *arg)
{
	(void) arg;
	return mscript_abort_quit(m, 1);
}

/* mscript_close - close without a word */
static int
mscript_close(struct mscript *m, char *arg)
{
	(void) arg;
	msession_close(m->s);
	m->s = NULL;
	fprintf(m->out, "close\n");
	return 0;
}

/* mscript_macro - macro NAME [VALUE] */
static int
mscript_macro(struct mscript *m, char *arg)
{
	char *value;

	arg += strspn(arg, " \t");
	value = arg + strcspn(arg, " \t");
	if (*value != '\0')
		*value++ = '\0';
	value += strspn(value, " \t");
	if (*arg == '\0')
		return mscript_syntax(m, "macro needs a NAME");
	if (mscript_session(m) == NULL)
		return 0;
	mscript_unescape(value);
	mmacro_set(msession_macros(m->s), arg, *value ? value : NULL);
	return 0;
}

/* mscript_code - a packet code: one character or 0xHH; -1 if bad */
static int
mscript_code(const char *w)
{
	if (strlen(w) == 1)
		return (unsigned char) w[0];
	if (strncmp(w, "0x", 2) == 0 && strlen(w) == 4 &&
	    isxdigit((unsigned char) w[2]) && isxdigit((unsigned char) w[3]))
		return (int) strtol(w + 2, NULL, 16);
	return -1;
}

/* mscript_raw_send - raw or raw-wait CODE [TEXT] */
static int
mscript_raw_send(struct mscript *m, char *arg, int want_reply)
{
	char why[256], *text;
	struct msession_result res;
	enum mconn_status st;
	int code;
	size_t n;

	arg += strspn(arg, " \t");
	text = arg + strcspn(arg, " \t");
	if (*text != '\0')
		*text++ = '\0';
	if ((code = mscript_code(arg)) < 0)
		return mscript_syntax(m, "bad packet code '%s'", arg);
	if (mscript_session(m) == NULL)
		return 0;
	n = mscript_unescape(text);
	st = msession_raw(m->s, (unsigned char) code, text, n, want_reply, &res,
	                  why, sizeof(why));
	if (st == MCONN_OK && !want_reply)
		fprintf(m->out, "%s sent\n", m->cmd);
	return st == MCONN_OK ? 0 : mscript_done(m, st, &res, why);
}

/* mscript_raw - raw CODE [TEXT] */
static int
mscript_raw(struct mscript *m, char *arg)
{
	return mscript_raw_send(m, arg, 0);
}

/* mscript_raw_wait - raw-wait CODE [TEXT] */
static int
mscript_raw_wait(struct mscript *m, char *arg)
{
	return mscript_raw_send(m, arg, 1);
}

/* mscript_read - read: replies, or the milter closing (not an error) */
static int
mscript_read(struct mscript *m, char *arg)
{
	char why[256];
	struct msession_result res;
	enum mconn_status st;

	(void) arg;
	if (mscript_session(m) == NULL)
		return 0;
	st = msession_expect(m->s, &res, why, sizeof(why));
	if (st == MCONN_CLOSED || st == MCONN_TIMEOUT) {
		fprintf(m->out, "read %s\n", mconn_status_name(st));
		msession_close(m->s);
		m->s = NULL;
		return 0;
	}
	return mscript_done(m, st, &res, why);
}

/* mscript_sleep - sleep MS */
static int
mscript_sleep(struct mscript *m, char *arg)
{
	long ms = strtol(arg, NULL, 10);
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void) m;
	if (ms > 0)
		nanosleep(&ts, NULL);
	return 0;
}

static const struct {
	const char *name;
	mscript_fn fn;
} mscript_commands[] = {
    {"open", mscript_open},         {"connect", mscript_connect},
    {"helo", mscript_helo},         {"mail", mscript_mail},
    {"rcpt", mscript_rcpt},         {"data", mscript_data},
    {"header", mscript_header},     {"headers", mscript_headers},
    {"eoh", mscript_eoh},           {"body", mscript_body},
    {"body-raw", mscript_body_raw}, {"body-bytes", mscript_body_bytes},
    {"eom", mscript_eom},           {"abort", mscript_abort},
    {"quit", mscript_quit},         {"close", mscript_close},
    {"macro", mscript_macro},       {"raw", mscript_raw},
    {"raw-wait", mscript_raw_wait}, {"read", mscript_read},
    {"sleep", mscript_sleep},
};

/* mscript_line - run one line; -1 for a script error */
static int
mscript_line(struct mscript *m, char *line)
{
	size_t len = strcspn(line, "\r\n"), n;
	char *arg;

	line[len] = '\0';
	line += strspn(line, " \t");
	if (*line == '\0' || *line == '#')
		return 0;
	n = strcspn(line, " \t");
	arg = line + n;
	if (*arg != '\0')
		*arg++ = '\0';
	for (size_t i = 0;
	     i < sizeof(mscript_commands) / sizeof(mscript_commands[0]); i++)
		if (strcmp(line, mscript_commands[i].name) == 0) {
			m->cmd = mscript_commands[i].name;
			return mscript_commands[i].fn(m, arg);
		}
	return mscript_syntax(m, "unknown command '%s'", line);
}

/* mscript_run - run the script read from in (named name); print to out */
int
mscript_run(FILE *in, const char *name, const struct mconn_addr *a,
            const struct msession_opts *o, FILE *out)
{
	struct mscript m = {.addr = a, .opts = o, .out = out, .file = name};
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (getline(&line, &cap, in) >= 0) {
		m.line++;
		if (mscript_line(&m, line) < 0) {
			rc = 2;
			break;
		}
		fflush(out);
	}
	free(line);
	msession_close(m.s);
	return rc != 0 ? rc : m.errors > 0;
}
