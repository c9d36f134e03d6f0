#ifndef MILTLOAD_MMACRO_H
#define MILTLOAD_MMACRO_H

/*
 * mmacro - the macro values an MTA knows about one session, and which of
 * them it sends at each protocol stage.
 *
 * MODEL
 *	A set of name/value pairs ("j", "{daemon_name}", "i", ...; names
 *	are kept as written, braces included).  Before each command an MTA
 *	sends the macros of that command's stage: the names of the stage's
 *	list that have a value.  The list is the one the milter asked for in
 *	the option negotiation, or else Postfix's default for the stage
 *	(milter_connect_macros etc.).  Setting a name again replaces its
 *	value; a NULL value removes it.
 *
 * OWNERSHIP
 *	mmacro_new() returns a set freed by mmacro_free().  Names and values
 *	are copied.  The pointers mmacro_select() stores point into the set
 *	and stay valid until the next mmacro_set() or mmacro_free().
 *	mmacro_default() returns static text; mmacro_queue_id() writes
 *	into the caller's buffer.
 *
 * CONCURRENCY
 *	A set belongs to one thread at a time.  mmacro_queue_id() is
 *	thread-safe (its nonce is set once, atomically).
 *
 * ERRORS
 *	None; allocation failure panics.
 *
 * SEE ALSO
 *	Postfix MILTER_README ("Macros"), postconf(5) milter_*_macros.
 */

#include <stddef.h>

#include "mproto.h"

struct mmacro;

/* mmacro_new - an empty set */
struct mmacro *mmacro_new(void);

/* mmacro_free - release the set; NULL is fine */
void mmacro_free(struct mmacro *m);

/* mmacro_set - give name a value, or remove it (value NULL) */
void mmacro_set(struct mmacro *m, const char *name, const char *value);

/* mmacro_get - the value of name, or NULL */
const char *mmacro_get(const struct mmacro *m, const char *name);

/*
 * mmacro_select - the pairs for the names in list (separated by blanks or
 * commas) that have a value, as nv[0] name, nv[1] value, ...; at most max
 * pairs (nv holds 2 * max pointers).  Returns the number of pairs.
 */
size_t mmacro_select(const struct mmacro *m, const char *list, const char **nv,
                     size_t max);

/*
 * mmacro_session_defaults - what an MTA knows of every SMTP session: j,
 * {daemon_name}, {daemon_addr}, v, and _ for a client 127.0.0.1.
 */
void mmacro_session_defaults(struct mmacro *m);

/* mmacro_default - Postfix's default macro list of a stage ("" if none) */
const char *mmacro_default(enum mproto_stage stage);

/*
 * mmacro_queue_id - a Postfix-like queue id (12 upper-case hex digits) for
 * message seq of connection conn, unique within a run and unlikely to
 * repeat across runs (a per-process nonce leads).  buf holds >= 13 bytes.
 */
void mmacro_queue_id(char *buf, size_t size, unsigned conn, unsigned long seq);

#endif
