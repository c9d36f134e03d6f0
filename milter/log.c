/*
 * log - structured log lines to syslog or stderr, as logfmt or JSON.
 */

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_MAX_PAIRS 48

/*
 * The current settings.  A reload replaces them under the lock; a line
 * copies them under the same lock, so it is rendered consistently.
 */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_settings log_current = {
    .destination = LOG_DEST_STDERR,
    .facility = LOG_MAIL,
    .level = LOG_LEVEL_INFO,
    .format = LOG_FORMAT_LOGFMT,
};
static int log_syslog_open;

static const char *const log_level_names[] = {
    [LOG_LEVEL_ERROR] = "error",   [LOG_LEVEL_WARNING] = "warning",
    [LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

static const int log_syslog_priority[] = {
    [LOG_LEVEL_ERROR] = LOG_ERR,     [LOG_LEVEL_WARNING] = LOG_WARNING,
    [LOG_LEVEL_NOTICE] = LOG_NOTICE, [LOG_LEVEL_INFO] = LOG_INFO,
    [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

/*
 * A bounded output buffer.  Pairs are appended up to "limit"; the bytes
 * between limit and size are reserved for what closes a line (a closing
 * quote, the truncation marker, the JSON brace), so a cut line is still
 * well-formed.  Once something did not fit, nothing more is appended.
 */
struct log_buf {
	char *p;
	size_t size;
	size_t limit;
	size_t len;
	int truncated;
};

#define LOG_RESERVE 24

/* log_level_name - text of a level */
const char *
log_level_name(enum log_level level)
{
	if ((unsigned) level > LOG_LEVEL_DEBUG)
		return "unknown";
	return log_level_names[level];
}

/* log_setup - install new settings */
void
log_setup(const struct log_settings *settings)
{
	pthread_mutex_lock(&log_lock);
	if (log_syslog_open && (settings->destination != LOG_DEST_SYSLOG ||
	                        settings->facility != log_current.facility)) {
		closelog();
		log_syslog_open = 0;
	}
	if (settings->destination == LOG_DEST_SYSLOG && !log_syslog_open) {
		openlog("relaygate", LOG_PID | LOG_NDELAY, settings->facility);
		log_syslog_open = 1;
	}
	log_current = *settings;
	pthread_mutex_unlock(&log_lock);
}

/* log_snapshot - a consistent copy of the settings */
static struct log_settings
log_snapshot(void)
{
	struct log_settings s;

	pthread_mutex_lock(&log_lock);
	s = log_current;
	pthread_mutex_unlock(&log_lock);
	return s;
}

/* log_enabled - level filter */
int
log_enabled(enum log_level level)
{
	return level <= log_snapshot().level;
}

/* log_put - append bytes if all of them fit below the limit */
static void
log_put(struct log_buf *b, const char *s, size_t n)
{
	if (b->truncated)
		return;
	if (n > b->limit - b->len) {
		b->truncated = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* log_put_reserved - append into the reserved tail (closing bytes only) */
static void
log_put_reserved(struct log_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n > b->size - 1)
		panic("log line reserve exceeded");
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* log_putc - append one byte */
static void
log_putc(struct log_buf *b, char c)
{
	log_put(b, &c, 1);
}

/* log_logfmt_needs_quotes - logfmt values with these bytes are quoted */
static int
log_logfmt_needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (const unsigned char *p = (const unsigned char *) v; *p; p++)
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' ||
		    *p >= 0x7f)
			return 1;
	return 0;
}

/*
 * log_escaped - append v with quotes, escaping backslash, quote and control
 * characters the same way for logfmt and JSON (\n, \t, \r, \u00XX).
 * Bytes >= 0x80 pass unchanged: values are UTF-8 or opaque.
 */
static void
log_escaped(struct log_buf *b, const char *v)
{
	char hex[8];

	log_putc(b, '"');
	if (b->truncated)
		return;
	for (const unsigned char *p = (const unsigned char *) v; *p; p++) {
		switch (*p) {
		case '"':
			log_put(b, "\\\"", 2);
			break;
		case '\\':
			log_put(b, "\\\\", 2);
			break;
		case '\n':
			log_put(b, "\\n", 2);
			break;
		case '\r':
			log_put(b, "\\r", 2);
			break;
		case '\t':
			log_put(b, "\\t", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(hex, sizeof(hex), "\\u%04x", *p);
				log_put(b, hex, 6);
			} else {
				log_putc(b, (char) *p);
			}
		}
	}
	log_put_reserved(b, "\"");
}

/*
 * log_pair - append one key/value pair in the chosen format.  A pair whose
 * key or unquoted value does not fit is taken back whole; a quoted value
 * that does not fit is cut and closed.
 */
static void
log_pair(struct log_buf *b, enum log_format format, const char *key,
         const char *value, int first)
{
	size_t start = b->len;

	if (value == NULL)
		value = "";
	if (format == LOG_FORMAT_JSON) {
		log_put(b, first ? "{" : ",", 1);
		log_escaped(b, key);
		log_putc(b, ':');
	} else {
		if (!first)
			log_putc(b, ' ');
		log_put(b, key, strlen(key));
		log_putc(b, '=');
	}
	if (b->truncated) {
		b->len = start;
		b->p[start] = '\0';
		return;
	}
	if (format == LOG_FORMAT_JSON || log_logfmt_needs_quotes(value)) {
		log_escaped(b, value);
		return;
	}
	log_put(b, value, strlen(value));
	if (b->truncated) {
		b->len = start;
		b->p[start] = '\0';
	}
}

/* log_close_line - finish the line, saying whether it was cut */
static void
log_close_line(struct log_buf *b, enum log_format format)
{
	if (b->truncated)
		log_put_reserved(b, format == LOG_FORMAT_JSON
		                        ? ",\"truncated\":\"1\""
		                        : " truncated=1");
	if (format == LOG_FORMAT_JSON)
		log_put_reserved(b, "}");
}

/* log_render - render a line into buf */
size_t
log_render(char *buf, size_t size, enum log_format format,
           const char *timestamp, enum log_level level, const char *const *kv,
           size_t npairs)
{
	struct log_buf b = {.p = buf, .size = size, .len = 0, .truncated = 0};
	int first = 1;

	if (size < 4 * LOG_RESERVE)
		panic("log_render: buffer of %zu bytes is too small", size);
	b.limit = size - 1 - LOG_RESERVE;
	buf[0] = '\0';
	if (timestamp != NULL) {
		log_pair(&b, format, "ts", timestamp, first);
		first = 0;
	}
	log_pair(&b, format, "level", log_level_name(level), first);
	for (size_t i = 0; i < npairs; i++)
		log_pair(&b, format, kv[2 * i], kv[2 * i + 1], 0);
	log_close_line(&b, format);
	return b.len;
}

/* log_timestamp - RFC 3339 UTC time with milliseconds */
static void
log_timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, size - len, ".%03dZ",
	         (int) (ts.tv_nsec / 1000000) % 1000);
}

/* log_write - render and emit one line with the current settings */
static void
log_write(enum log_level level, const char *const *kv, size_t npairs)
{
	struct log_settings s = log_snapshot();
	char line[LOG_LINE_MAX + 1];
	char ts[40];
	size_t len;

	if (level > s.level)
		return;
	if (s.destination == LOG_DEST_SYSLOG) {
		log_render(line, sizeof(line), s.format, NULL, level, kv,
		           npairs);
		syslog(log_syslog_priority[level], "%s", line);
		return;
	}
	log_timestamp(ts, sizeof(ts));
	len =
	    log_render(line, sizeof(line) - 1, s.format, ts, level, kv, npairs);
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0) {
		/* Nowhere left to report it. */
	}
}

/* log_event - structured line from varargs pairs */
void
log_event(enum log_level level, const char *event, ...)
{
	const char *kv[2 * LOG_MAX_PAIRS];
	size_t n = 1;
	const char *key;
	va_list ap;

	kv[0] = "event";
	kv[1] = event;
	va_start(ap, event);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		if (value != NULL && n < LOG_MAX_PAIRS) {
			kv[2 * n] = key;
			kv[2 * n + 1] = value;
			n++;
		}
	}
	va_end(ap);
	log_write(level, kv, n);
}

/* log_vtext - free-text line */
static void log_vtext(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_vtext(enum log_level level, const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];
	const char *kv[2];

	vsnprintf(text, sizeof(text), fmt, ap);
	kv[0] = "msg";
	kv[1] = text;
	log_write(level, kv, 1);
}

#define LOG_TEXT_FN(name, level)                                               \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		if (!log_enabled(level))                                       \
			return;                                                \
		va_start(ap, fmt);                                             \
		log_vtext(level, fmt, ap);                                     \
		va_end(ap);                                                    \
	}

LOG_TEXT_FN(log_error, LOG_LEVEL_ERROR)
LOG_TEXT_FN(log_warning, LOG_LEVEL_WARNING)
LOG_TEXT_FN(log_notice, LOG_LEVEL_NOTICE)
LOG_TEXT_FN(log_info, LOG_LEVEL_INFO)
LOG_TEXT_FN(log_debug, LOG_LEVEL_DEBUG)

/* panic - broken invariant: log and abort */
void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vtext(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	abort();
}

/* fatal - start-up failure: log and exit */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vtext(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
