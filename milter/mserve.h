#ifndef RELAYGATE_MSERVE_H
#define RELAYGATE_MSERVE_H

/*
 * mserve - the milter side of the milter protocol: accept MTA connections
 * and run each one as a session, calling back for the steps of its mail.
 *
 * MODEL
 *	One thread per MTA connection, reading with a large buffer and
 *	writing replies only when the MTA waits for one: the steps the MTA
 *	was told to leave unanswered (header fields, body chunks, ...) are
 *	taken in batches without a system call each.  A session is: option
 *	negotiation (version up to 6; the actions, steps and macro lists of
 *	struct mserve_ops, as far as the MTA offers them), then connect,
 *	messages (MAIL FROM .. end of message, or abort), and QUIT; QUIT_NC
 *	starts a new connect on the same socket.  Macros are kept per stage
 *	as the MTA sent them; those of a message are forgotten at its end.
 *	On TCP, Nagle is off and every read is acknowledged at once, since
 *	the MTA sends several small packets per step without waiting for a
 *	reply (tcptune.h).
 *	This module replaces libmilter in the daemon (reasons in INSTALL,
 *	"The milter protocol engine"); it speaks the same protocol, so the
 *	MTA's configuration does not change.
 *
 * OWNERSHIP
 *	The server owns the listening socket (mserve_new() takes it) and
 *	its sessions.  Strings passed to callbacks are valid for the call.
 *	Callbacks own what they hang on a session (mserve_set_priv()) and
 *	free it in their close callback, which every session gets once.
 *
 * CONCURRENCY
 *	Callbacks run concurrently for different sessions, one at a time
 *	per session.  mserve_stop() may be called from any thread.
 *
 * ERRORS
 *	A malformed packet, a packet over MPROTO_MAX_COMMAND bytes, an I/O
 *	error or a read timeout ends the session with a log line: the MTA
 *	then applies its own default (Postfix: tempfail).  Nothing here
 *	aborts the process.
 */

#include <stddef.h>
#include <stdint.h>

#include "mproto.h"

/* What a callback tells the MTA. */
enum mserve_status {
	MSERVE_CONTINUE, /* go on */
	MSERVE_TEMPFAIL, /* 4xx (mserve_reply() text, else the MTA's) */
	MSERVE_REJECT,   /* 5xx (mserve_reply() text, else the MTA's) */
};

struct mserve_session;

/*
 * What a milter asks for and the callbacks it gives.  Steps without a
 * callback are answered "continue".  A step negotiated unanswered
 * (MPROTO_P_NR_*) gets no reply at all: its callback must not refuse (a
 * refusal there is logged and lost).  Header fields and body chunks
 * cannot refuse in any case.
 */
struct mserve_ops {
	uint32_t actions; /* MPROTO_F_* wanted */
	uint32_t steps;   /* MPROTO_P_* wanted: steps skipped, unanswered */
	const char *macros[MPROTO_M_COUNT]; /* lists asked for, or NULL */
	/* family: MPROTO_FAMILY_*; addr as the MTA wrote it, or "" */
	enum mserve_status (*connect)(struct mserve_session *, const char *host,
	                              char family, const char *addr);
	enum mserve_status (*envfrom)(struct mserve_session *,
	                              const char *const *argv, size_t argc);
	void (*header)(struct mserve_session *, const char *name,
	               const char *value);
	enum mserve_status (*eoh)(struct mserve_session *);
	void (*body)(struct mserve_session *, const unsigned char *data,
	             size_t len);
	enum mserve_status (*eom)(struct mserve_session *);
	void (*abort)(struct mserve_session *);
	void (*close)(struct mserve_session *);
};

struct mserve;

/*
 * mserve_new - a server on a listening socket, which it takes: closed when
 * mserve_run() stops accepting (connections not yet accepted are refused
 * at once), or in mserve_free().  tcp != 0 for a TCP socket.  Nothing is
 * accepted before mserve_run().  ops is borrowed for the server's
 * lifetime.
 */
struct mserve *mserve_new(int listen_fd, int tcp, const struct mserve_ops *ops);

/*
 * mserve_run - accept and serve until mserve_stop(); returns when every
 * session has ended.  0 on an orderly stop, -1 if accepting failed for
 * good (logged).
 */
int mserve_run(struct mserve *srv);

/*
 * mserve_stop - stop accepting and cut every open session (the MTA
 * defers their mail); mserve_run() then returns once the callbacks in
 * progress have returned.  Any thread, any number of times.
 */
void mserve_stop(struct mserve *srv);

/* mserve_free - close the socket and free the server (after mserve_run) */
void mserve_free(struct mserve *srv);

/*
 * mserve_session_serve - serve one MTA connection on fd in the calling
 * thread, until QUIT, the connection's end or an error; fd stays open.
 * Used by mserve_run()'s threads and by tests over a socketpair.
 */
void mserve_session_serve(int fd, int tcp, const struct mserve_ops *ops);

/* mserve_priv, mserve_set_priv - the callbacks' data of a session */
void *mserve_priv(const struct mserve_session *s);
void mserve_set_priv(struct mserve_session *s, void *priv);

/*
 * mserve_macro - a macro's value as the MTA sent it for this connection
 * or the current message, the latest stage first; "i" and "{i}" are the
 * same name.  NULL if not sent.  Valid until the callback returns.
 */
const char *mserve_macro(const struct mserve_session *s, const char *name);

/*
 * mserve_reply - the SMTP reply of the next MSERVE_TEMPFAIL or
 * MSERVE_REJECT: rcode "4xy"/"5xy", xcode "4.x.y"/"5.x.y" of the same
 * class, one line of text.  -1 (and nothing set) if malformed.
 */
int mserve_reply(struct mserve_session *s, const char *rcode, const char *xcode,
                 const char *text);

/*
 * mserve_addheader, mserve_insheader, mserve_chgheader - header edits,
 * only from the eom callback and only if the MTA allowed the action
 * (-1 otherwise).  insheader: index 0 is the top.  chgheader: the index-th
 * field of that name (1 is the first); value NULL deletes it.
 */
int mserve_addheader(struct mserve_session *s, const char *name,
                     const char *value);
int mserve_insheader(struct mserve_session *s, uint32_t index, const char *name,
                     const char *value);
int mserve_chgheader(struct mserve_session *s, uint32_t index, const char *name,
                     const char *value);

#endif
