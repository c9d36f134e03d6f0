/*
 * milter - relaygate's side of the milter protocol.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "memory.h"
#include "message.h"
#include "milter.h"
#include "mserve.h"
#include "negotiation.h"
#include "runtime.h"
#include "sockspec.h"
#include "util.h"

/* One SMTP session (milter connection). */
struct milter_session {
	struct runtime *rt; /* acquired at connect, released at close */
	int refused;        /* opened while stopping: its mail is deferred */
	char client_addr[64];
	struct message *msg; /* between MAIL FROM and end or abort */
	/* A refusal decided at the end of the headers, replied at the end of
	   the message (the MTA does not wait for an answer to the headers). */
	enum message_step held;
	struct message_reply held_reply;
};

/* The reply of a session opened while relaygate stops. */
static const struct message_reply milter_stopping_reply = {
    "451", "4.3.2", "relaygate is restarting, try again later"};

static long milter_nsessions;        /* atomic */
static long milter_nmessages;        /* atomic */
static long milter_ncompleted;       /* atomic */
static int milter_refusing;          /* atomic: stopping, no new sessions */
static struct sockspec milter_spec;  /* what milter_listen() opened */
static struct mserve *milter_server; /* milter_listen() */
static struct judge *milter_judge;   /* milter_setup(), before serving */
static struct signer *milter_signer;

/* milter_session_get - our data of a session */
static struct milter_session *
milter_session_get(struct mserve_session *ms)
{
	return mserve_priv(ms);
}

/* milter_message_end - free the current message, if any, exactly once */
static void
milter_message_end(struct milter_session *s)
{
	if (s->msg == NULL)
		return;
	message_free(s->msg);
	s->msg = NULL;
	__atomic_sub_fetch(&milter_nmessages, 1, __ATOMIC_RELAXED);
}

/*
 * milter_connect - a new session with the current configuration, unless
 * relaygate is stopping: then the MTA defers this session's mail (at MAIL
 * FROM: the connect step goes unanswered).
 */
/*
 * milter_client_addr - the client's address in canonical text for the
 * policy's scope: IPv4 or IPv6 as inet_ntop() writes it (an "IPv6:"
 * prefix, as sendmail may send, is dropped); "local" for a client without
 * an IP address (submission on the relay host: scope.h); "unknown" for an
 * address that does not parse, which no scope.networks entry matches.
 */
static void
milter_client_addr(char family, const char *addr, char *buf, size_t size)
{
	unsigned char bin[sizeof(struct in6_addr)];
	int af = family == MPROTO_FAMILY_INET6 ? AF_INET6 : AF_INET;

	if (family != MPROTO_FAMILY_INET && family != MPROTO_FAMILY_INET6) {
		util_strlcpy(buf, "local", size);
		return;
	}
	if (af == AF_INET6 && strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	if (inet_pton(af, addr, bin) != 1 ||
	    inet_ntop(af, bin, buf, (socklen_t) size) == NULL)
		util_strlcpy(buf, "unknown", size);
}

static enum mserve_status
milter_connect(struct mserve_session *ms, const char *host, char family,
               const char *addr)
{
	struct milter_session *s;

	(void) host;
	s = xcalloc(1, sizeof(*s));
	mserve_set_priv(ms, s);
	if (__atomic_load_n(&milter_refusing, __ATOMIC_ACQUIRE)) {
		s->refused = 1;
		return MSERVE_CONTINUE;
	}
	s->rt = runtime_acquire();
	milter_client_addr(family, addr, s->client_addr,
	                   sizeof(s->client_addr));
	__atomic_add_fetch(&milter_nsessions, 1, __ATOMIC_RELAXED);
	return MSERVE_CONTINUE;
}

/*
 * milter_reply - set the reply of a refused message and return the status
 * that carries it.  '%' is doubled: sendmail takes the reply as a format
 * string, and Postfix undoes the doubling (milter8.c).
 */
static enum mserve_status
milter_reply(struct mserve_session *ms, enum message_step step,
             const struct message_reply *r)
{
	char text[2 * sizeof(r->text)];
	size_t n = 0;

	for (const char *p = r->text; *p && n + 2 < sizeof(text); p++) {
		if (*p == '%')
			text[n++] = '%';
		text[n++] = *p;
	}
	text[n] = '\0';
	if (mserve_reply(ms, r->rcode, r->xcode, text) < 0)
		log_warning("a malformed reply was not sent: %s %s %s",
		            r->rcode, r->xcode, text);
	return step == MESSAGE_REJECT ? MSERVE_REJECT : MSERVE_TEMPFAIL;
}

/* milter_envfrom - a message begins; it may be refused at once */
static enum mserve_status
milter_envfrom(struct mserve_session *ms, const char *const *argv, size_t argc)
{
	struct milter_session *s = milter_session_get(ms);
	struct message_env env = {.judge = milter_judge,
	                          .signer = milter_signer};
	struct message_reply reply;
	enum message_step step;

	if (s == NULL) {
		log_error("MAIL FROM without a session; deferring");
		return MSERVE_TEMPFAIL;
	}
	if (s->refused)
		return milter_reply(ms, MESSAGE_TEMPFAIL,
		                    &milter_stopping_reply);
	milter_message_end(s);
	s->held = MESSAGE_CONTINUE;
	/* Each message takes the runtime current at its MAIL FROM: after a
	   reload no new message is signed with the old selector, even in a
	   session that was open before. */
	runtime_release(s->rt);
	s->rt = runtime_acquire();
	env.rt = s->rt;
	s->msg = message_new(&env, s->client_addr);
	__atomic_add_fetch(&milter_nmessages, 1, __ATOMIC_RELAXED);
	step = message_envfrom(s->msg, argc > 0 ? argv[0] : "",
	                       mserve_macro(ms, "{auth_authen}"),
	                       mserve_macro(ms, "i"), &reply);
	if (step == MESSAGE_CONTINUE)
		return MSERVE_CONTINUE;
	milter_message_end(s);
	return milter_reply(ms, step, &reply);
}

/* milter_header - one header field */
static void
milter_header(struct mserve_session *ms, const char *name, const char *value)
{
	struct milter_session *s = milter_session_get(ms);

	if (s != NULL && s->msg != NULL)
		message_header(s->msg, name, value);
}

/* milter_eoh - the decision: refuse now, or go on to the body */
static enum mserve_status
milter_eoh(struct mserve_session *ms)
{
	struct milter_session *s = milter_session_get(ms);
	struct message_reply reply;
	enum message_step step;

	if (s == NULL || s->msg == NULL)
		return MSERVE_CONTINUE;
	step = message_eoh(s->msg, mserve_macro(ms, "i"), &reply);
	if (step != MESSAGE_CONTINUE) {
		s->held = step;
		s->held_reply = reply;
		milter_message_end(s);
	}
	return MSERVE_CONTINUE;
}

/* milter_body - a body chunk, for the signature */
static void
milter_body(struct mserve_session *ms, const unsigned char *chunk, size_t len)
{
	struct milter_session *s = milter_session_get(ms);

	if (s != NULL && s->msg != NULL && message_wants_body(s->msg))
		message_body(s->msg, chunk, len);
}

/*
 * milter_edit - apply the header edits of the end of a message.  A failed
 * edit fails the message (tempfail): better retried than sent unsigned or
 * with a forged status header.
 */
static int
milter_edit(struct mserve_session *ms, const struct message_edits *e)
{
	const char *name = e->status_name;
	int rc = 0;

	for (unsigned i = e->status_remove; i > 0 && rc == 0; i--)
		rc = mserve_chgheader(ms, i, name, NULL);
	if (rc == 0 && e->status_value != NULL)
		rc = mserve_addheader(ms, name, e->status_value);
	if (rc == 0 && e->subject != NULL)
		rc = e->subject_exists
		         ? mserve_chgheader(ms, 1, "Subject", e->subject)
		         : mserve_addheader(ms, "Subject", e->subject);
	for (size_t i = MESSAGE_SIGNATURES; i-- > 0 && rc == 0;)
		if (e->signature[i] != NULL)
			rc = mserve_insheader(ms, 0, "DKIM-Signature",
			                      e->signature[i]);
	return rc;
}

/* milter_eom - finish: refuse, or apply the edits and accept */
static enum mserve_status
milter_eom(struct mserve_session *ms)
{
	struct milter_session *s = milter_session_get(ms);
	struct message_edits edits;
	struct message_reply reply;
	enum message_step step;
	enum mserve_status rc = MSERVE_CONTINUE;

	if (s != NULL && s->msg == NULL && s->held != MESSAGE_CONTINUE) {
		step = s->held;
		s->held = MESSAGE_CONTINUE;
		return milter_reply(ms, step, &s->held_reply);
	}
	if (s == NULL || s->msg == NULL) {
		log_error("end of message without a message context; "
		          "deferring");
		return MSERVE_TEMPFAIL;
	}
	step = message_eom(s->msg, mserve_macro(ms, "i"), &edits, &reply);
	if (step != MESSAGE_CONTINUE) {
		rc = milter_reply(ms, step, &reply);
	} else if (milter_edit(ms, &edits) < 0) {
		log_error("the MTA does not allow the header changes of the "
		          "message from %s; deferring",
		          message_from_domain(s->msg));
		rc = MSERVE_TEMPFAIL;
	}
	milter_message_end(s);
	__atomic_add_fetch(&milter_ncompleted, 1, __ATOMIC_RELAXED);
	return rc;
}

/* milter_abort - the message ends without an end-of-message */
static void
milter_abort(struct mserve_session *ms)
{
	struct milter_session *s = milter_session_get(ms);

	if (s != NULL) {
		milter_message_end(s);
		s->held = MESSAGE_CONTINUE;
	}
}

/* milter_close - the session ends; may come without a connect */
static void
milter_close(struct mserve_session *ms)
{
	struct milter_session *s = milter_session_get(ms);

	if (s == NULL)
		return;
	mserve_set_priv(ms, NULL);
	milter_message_end(s);
	if (!s->refused) {
		runtime_release(s->rt);
		if (__atomic_sub_fetch(&milter_nsessions, 1,
		                       __ATOMIC_RELAXED) == 0)
			memory_idle(); /* after a peak, its pages go back */
	}
	free(s);
}

/*
 * The actions we need, the steps we skip (HELO, RCPT TO, DATA, unknown
 * commands: never looked at) and the steps we leave unanswered: connect,
 * header fields, the end of the headers and body chunks (negotiation.h,
 * shared with the benchmark's floor milters).  The MTA then
 * streams them without waiting for us, a round trip (two context switches
 * on each side) fewer each; a refusal decided at connect or at the end of
 * the headers is given at MAIL FROM or at the end of the message, where
 * the SMTP client sees it at the same point of its dialogue.  We continue
 * with whatever the MTA offers: refusing would make it skip relaygate, and
 * mail would pass unchecked.
 */
static const struct mserve_ops milter_ops = {
    .actions = MPROTO_F_ADDHDRS | MPROTO_F_CHGHDRS | MPROTO_F_SETSYMLIST,
    .steps = NEGOTIATION_STEPS,
    .macros = NEGOTIATION_MACROS,
    .connect = milter_connect,
    .envfrom = milter_envfrom,
    .header = milter_header,
    .eoh = milter_eoh,
    .body = milter_body,
    .eom = milter_eom,
    .abort = milter_abort,
    .close = milter_close,
};

/*
 * milter_unix_perms - mode, owner and group of a unix socket.  The owner is
 * the user relaygate will run as, so that after dropping privileges it can
 * still connect to its own socket (milter_stop() does).
 */
static int
milter_unix_perms(const struct config *cfg, const char *path, char *why,
                  size_t whylen)
{
	uid_t uid = (uid_t) -1;
	gid_t gid = (gid_t) -1;
	struct passwd *pw;
	struct group *gr;

	if (chmod(path, (mode_t) cfg->socket_mode) < 0)
		return util_why(why, whylen, "chmod %s: %s", path,
		                strerror(errno));
	if (cfg->user[0] != '\0' && geteuid() == 0) {
		if ((pw = getpwnam(cfg->user)) == NULL)
			return util_why(why, whylen,
			                "daemon.user: no user "
			                "'%s'",
			                cfg->user);
		uid = pw->pw_uid;
	}
	if (cfg->socket_group[0] != '\0') {
		if ((gr = getgrnam(cfg->socket_group)) == NULL)
			return util_why(why, whylen,
			                "daemon.socket_group: no "
			                "group '%s'",
			                cfg->socket_group);
		gid = gr->gr_gid;
	}
	if (chown(path, uid, gid) < 0)
		return util_why(why, whylen, "chown %s: %s", path,
		                strerror(errno));
	return 0;
}

/*
 * milter_in_use - does a running process serve the unix socket at path?
 * The listener replaces a socket file without asking, which would
 * silently steal the socket of a running instance.
 */
static int
milter_in_use(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	rc = connect(fd, (struct sockaddr *) &sun, sizeof(sun));
	close(fd);
	return rc == 0;
}

/* milter_listen - open the socket */
int
milter_listen(const struct config *cfg, char *why, size_t whylen)
{
	struct sockspec spec;
	int fd, unix_socket;

	if (sockspec_parse(cfg->socket, &spec, why, whylen) < 0)
		return -1;
	unix_socket = spec.kind == SOCKSPEC_UNIX;
	if (unix_socket && milter_in_use(spec.path))
		return util_why(why, whylen,
		                "%s is in use by a running "
		                "process (another relaygate?)",
		                cfg->socket);
	if ((fd = listener_open(&spec, why, whylen)) < 0)
		return -1;
	if (unix_socket && milter_unix_perms(cfg, spec.path, why, whylen) < 0) {
		close(fd);
		(void) unlink(spec.path);
		return -1;
	}
	milter_spec = spec;
	milter_server = mserve_new(fd, !unix_socket, &milter_ops);
	return 0;
}

/* milter_setup - what every message works with */
void
milter_setup(struct judge *judge, struct signer *signer)
{
	milter_judge = judge;
	milter_signer = signer;
}

/* milter_close_socket - close the socket, remove a unix socket file */
void
milter_close_socket(void)
{
	mserve_free(milter_server);
	milter_server = NULL;
	if (milter_spec.kind == SOCKSPEC_UNIX && milter_spec.path[0] != '\0')
		(void) unlink(milter_spec.path);
}

/* milter_run - serve until stopped */
int
milter_run(void)
{
	return mserve_run(milter_server);
}

/* milter_stop - stop accepting, cut open sessions */
void
milter_stop(void)
{
	mserve_stop(milter_server);
}

/* milter_refuse_new - defer new sessions from now on */
void
milter_refuse_new(void)
{
	__atomic_store_n(&milter_refusing, 1, __ATOMIC_RELEASE);
}

/* milter_counts - snapshot of the counters */
void
milter_counts(struct milter_counts *out)
{
	out->sessions = __atomic_load_n(&milter_nsessions, __ATOMIC_RELAXED);
	out->messages = __atomic_load_n(&milter_nmessages, __ATOMIC_RELAXED);
	out->completed = __atomic_load_n(&milter_ncompleted, __ATOMIC_RELAXED);
}
