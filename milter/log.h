#ifndef RELAYGATE_LOG_H
#define RELAYGATE_LOG_H

/*
 * log - structured log lines to syslog or stderr, as logfmt or JSON.
 *
 * MODEL
 *	Every line is a list of key/value pairs: "level", then either
 *	"event" followed by the caller's fields (log_event: the decision line
 *	of a message, state changes, reloads) or "msg" with free text
 *	(log_warning etc.: operator-facing diagnostics).  The same pairs are
 *	rendered as logfmt (key=value, quoted where needed) or as one JSON
 *	object per line.  Lines written to stderr start with a UTC timestamp
 *	("ts"); syslog adds its own.  Until log_setup() is called, lines go to
 *	stderr as logfmt at level info, so start-up errors are always seen.
 *
 * OWNERSHIP
 *	Nothing is retained: keys and values are borrowed for the call.
 *	log_setup() copies what it keeps.
 *
 * CONCURRENCY
 *	All functions are thread-safe.  log_setup() may run while other
 *	threads log (configuration reload): each line is rendered with one
 *	consistent set of settings and written with a single write(2) or
 *	syslog(3) call, so lines never interleave.
 *
 * ERRORS
 *	Logging never fails visibly: a line longer than LOG_LINE_MAX is cut and
 *	marked with "truncated=1"; a failed write is ignored.
 *	panic() aborts (broken invariant); fatal() exits with status 1
 *	(start-up or configuration failure, never used per message).
 */

#include <stddef.h>

#define LOG_LINE_MAX 4096

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_format {
	LOG_FORMAT_LOGFMT,
	LOG_FORMAT_JSON,
};

enum log_destination {
	LOG_DEST_STDERR,
	LOG_DEST_SYSLOG,
};

struct log_settings {
	enum log_destination destination;
	int facility; /* syslog facility, e.g. LOG_MAIL */
	enum log_level level;
	enum log_format format;
};

/*
 * log_setup - apply new settings (start-up and every reload).  Opening
 * syslog happens here; switching away from syslog closes it.
 */
void log_setup(const struct log_settings *settings);

/* log_enabled - would a line at this level be written now? */
int log_enabled(enum log_level level);

/*
 * log_event - one structured line: "event" = event, then pairs of
 * (const char *key, const char *value) ending with a NULL key.  A pair
 * whose value is NULL is left out (optional fields); "" is kept.
 */
void log_event(enum log_level level, const char *event, ...)
    __attribute__((sentinel));

/* log_error ... log_debug - a free-text line ("msg") at that level */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * log_render - render one line into buf (size > 0) without writing it:
 * the pairs kv[0..2*npairs) after "level".  Returns the length written,
 * excluding the terminating NUL.  Exposed for tests and for callers that
 * need the exact text of a line.
 */
size_t log_render(char *buf, size_t size, enum log_format format,
                  const char *timestamp, enum log_level level,
                  const char *const *kv, size_t npairs);

/* log_level_name - "error", "warning", "notice", "info" or "debug" */
const char *log_level_name(enum log_level level);

/* panic - log a broken invariant and abort(); never returns */
void panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* fatal - log a start-up failure and exit(1); never returns */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
