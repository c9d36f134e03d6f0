/*
 * milter - relaygate's side of the milter protocol.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "log.h"
#include "message.h"
#include "milter.h"
#include "runtime.h"
#include "sockspec.h"
#include "tcptune.h"
#include "util.h"

/* One SMTP session (milter connection). */
struct milter_session {
	struct runtime *rt; /* acquired at connect, released at close */
	int tcp_fd;         /* the MTA's TCP connection, or -1 (tcptune.h) */
	char client_addr[INET6_ADDRSTRLEN];
	struct message *msg; /* between MAIL FROM and end or abort */
};

static long milter_nsessions;       /* atomic */
static long milter_nmessages;       /* atomic */
static long milter_ncompleted;      /* atomic */
static int milter_refusing;         /* atomic: stopping, no new sessions */
static struct sockspec milter_spec; /* what milter_listen() opened */
static struct judge *milter_judge;  /* milter_setup(), before serving */
static struct signer *milter_signer;
static unsigned long milter_nr; /* atomic: SMFIP_NR_* negotiated */
static int milter_fd_warned;    /* atomic: no session socket found */

/* The steps we may leave unanswered. */
#define MILTER_NR_STEPS                                                        \
	(SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_BODY)

/* Macros we ask the MTA for (libmilter wants writable strings). */
static char milter_name[] = "relaygate";
static char milter_macros_envfrom[] = "i {auth_authen} {auth_type}";
static char milter_macros_eoh[] = "i";
static char milter_macros_eom[] = "i";

/* milter_session_get - the session of a libmilter context */
static struct milter_session *
milter_session_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
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
 * milter_negotiate - take the actions we need, skip the protocol steps we
 * never look at, and answer none of the steps that cannot refuse (header
 * fields, body chunks; over TCP also RCPT TO and DATA): the MTA streams
 * them without waiting for us, two context switches fewer each.  Over TCP
 * we take RCPT TO and DATA only to acknowledge their macros at once
 * (milter_quickack).  libmilter offers the no-reply steps even to an MTA
 * that lacks them and answers for us there, so milter_nr is the same for
 * every session.  We continue with whatever the MTA offers: refusing
 * would make the MTA skip relaygate, and mail would pass unchecked.
 */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                 unsigned long f2, unsigned long f3, unsigned long *pf0,
                 unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST;
	unsigned long steps =
	    SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NR_HDR | SMFIP_NR_BODY;

	(void) f2;
	(void) f3;
	if (milter_spec.kind == SOCKSPEC_UNIX)
		steps |= SMFIP_NORCPT | SMFIP_NODATA;
	else
		steps |= SMFIP_NR_RCPT | SMFIP_NR_DATA;
	if ((f0 & want) != want)
		log_warning("the MTA does not offer all milter actions "
		            "relaygate uses (offered 0x%lx, wanted 0x%lx)",
		            f0, want);
	*pf0 = f0 & want;
	*pf1 = f1 & steps;
	__atomic_store_n(&milter_nr, *pf1 & MILTER_NR_STEPS, __ATOMIC_RELAXED);
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_ENVFROM, milter_macros_envfrom);
		smfi_setsymlist(ctx, SMFIM_EOH, milter_macros_eoh);
		smfi_setsymlist(ctx, SMFIM_EOM, milter_macros_eom);
	}
	return SMFIS_CONTINUE;
}

/* milter_addr_text - the client address as text, "local" for others */
static void
milter_addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
	const void *addr = NULL;

	if (sa != NULL && sa->sa_family == AF_INET)
		addr =
		    &((const struct sockaddr_in *) (const void *) sa)->sin_addr;
	else if (sa != NULL && sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *) (const void *) sa)
		            ->sin6_addr;
	if (addr == NULL ||
	    inet_ntop(sa->sa_family, addr, buf, (socklen_t) size) == NULL)
		util_strlcpy(buf, "local", size);
}

/*
 * milter_quickack - acknowledge what the MTA sent, now, at a step we do not
 * answer (tcptune.h: its next small write waits for this ACK).
 */
static void
milter_quickack(const struct milter_session *s)
{
	tcptune_quickack(s->tcp_fd);
}

/*
 * milter_connect - a new session with the current configuration, unless
 * relaygate is stopping: then the MTA defers this session's mail.
 */
static sfsistat
milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_session *s;

	(void) hostname;
	if (__atomic_load_n(&milter_refusing, __ATOMIC_ACQUIRE))
		return SMFIS_TEMPFAIL;
	s = xcalloc(1, sizeof(*s));
	s->rt = runtime_acquire();
	s->tcp_fd = milter_spec.kind == SOCKSPEC_UNIX
	                ? -1
	                : tcptune_session_fd(ctx, milter_spec.port);
	if (s->tcp_fd < 0 && milter_spec.kind != SOCKSPEC_UNIX &&
	    !__atomic_exchange_n(&milter_fd_warned, 1, __ATOMIC_RELAXED))
		log_warning("cannot find the socket of a milter session in "
		            "libmilter's context; acknowledgements are not "
		            "sped up (TCP_QUICKACK)");
	milter_addr_text(hostaddr, s->client_addr, sizeof(s->client_addr));
	smfi_setpriv(ctx, s);
	__atomic_add_fetch(&milter_nsessions, 1, __ATOMIC_RELAXED);
	return SMFIS_CONTINUE;
}

/*
 * milter_reply - set the reply of a refused message and return the status
 * that carries it.  libmilter wants '%' doubled.
 */
static sfsistat
milter_reply(SMFICTX *ctx, enum message_step step,
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
	if (smfi_setreply(ctx, (char *) r->rcode, (char *) r->xcode, text) !=
	    MI_SUCCESS)
		log_warning("libmilter refused the reply %s %s %s", r->rcode,
		            r->xcode, text);
	return step == MESSAGE_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* milter_envfrom - a message begins; it may be refused at once */
static sfsistat
milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_session *s = milter_session_get(ctx);
	struct message_env env = {.judge = milter_judge,
	                          .signer = milter_signer};
	struct message_reply reply;
	enum message_step step;

	if (s == NULL || s->rt == NULL) {
		log_error("MAIL FROM without a session; deferring");
		return SMFIS_TEMPFAIL;
	}
	milter_message_end(s);
	/* Each message takes the runtime current at its MAIL FROM: after a
	   reload no new message is signed with the old selector, even in a
	   session that was open before. */
	runtime_release(s->rt);
	s->rt = runtime_acquire();
	env.rt = s->rt;
	s->msg = message_new(&env, s->client_addr);
	__atomic_add_fetch(&milter_nmessages, 1, __ATOMIC_RELAXED);
	step = message_envfrom(s->msg, argv[0] ? argv[0] : "",
	                       smfi_getsymval(ctx, (char *) "{auth_authen}"),
	                       &reply);
	if (step == MESSAGE_CONTINUE)
		return SMFIS_CONTINUE;
	milter_message_end(s);
	return milter_reply(ctx, step, &reply);
}

/* milter_noreply - the status of a step that may go unanswered */
static sfsistat
milter_noreply(unsigned long step)
{
	return __atomic_load_n(&milter_nr, __ATOMIC_RELAXED) & step
	           ? SMFIS_NOREPLY
	           : SMFIS_CONTINUE;
}

/*
 * milter_envrcpt, milter_data - over TCP only: acknowledge the macros and
 * the command at once (milter_quickack).
 */
static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_session *s = milter_session_get(ctx);

	(void) argv;
	if (s != NULL)
		milter_quickack(s);
	return milter_noreply(SMFIP_NR_RCPT);
}

static sfsistat
milter_data(SMFICTX *ctx)
{
	struct milter_session *s = milter_session_get(ctx);

	if (s != NULL)
		milter_quickack(s);
	return milter_noreply(SMFIP_NR_DATA);
}

/* milter_header - one header field */
static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_session *s = milter_session_get(ctx);

	if (s == NULL)
		return milter_noreply(SMFIP_NR_HDR);
	if (s->msg != NULL)
		message_header(s->msg, name, value);
	milter_quickack(s);
	return milter_noreply(SMFIP_NR_HDR);
}

/* milter_eoh - the decision: refuse now, or go on to the body */
static sfsistat
milter_eoh(SMFICTX *ctx)
{
	struct milter_session *s = milter_session_get(ctx);
	struct message_reply reply;
	enum message_step step;

	if (s == NULL || s->msg == NULL)
		return SMFIS_CONTINUE;
	step =
	    message_eoh(s->msg, smfi_getsymval(ctx, milter_macros_eoh), &reply);
	if (step == MESSAGE_CONTINUE)
		return SMFIS_CONTINUE;
	milter_message_end(s);
	return milter_reply(ctx, step, &reply);
}

/* milter_body - a body chunk, for the signature */
static sfsistat
milter_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milter_session *s = milter_session_get(ctx);

	if (s == NULL)
		return milter_noreply(SMFIP_NR_BODY);
	if (s->msg != NULL && message_wants_body(s->msg))
		message_body(s->msg, chunk, len);
	milter_quickack(s);
	return milter_noreply(SMFIP_NR_BODY);
}

/*
 * milter_edit - apply the header edits of the end of a message.  A failed
 * edit fails the message (tempfail): better retried than sent unsigned or
 * with a forged status header.
 */
static int
milter_edit(SMFICTX *ctx, const struct message_edits *e)
{
	char *name = (char *) e->status_name;
	int rc = MI_SUCCESS;

	for (unsigned i = e->status_remove; i > 0 && rc == MI_SUCCESS; i--)
		rc = smfi_chgheader(ctx, name, (int) i, NULL);
	if (rc == MI_SUCCESS && e->status_value != NULL)
		rc = smfi_addheader(ctx, name, (char *) e->status_value);
	if (rc == MI_SUCCESS && e->subject != NULL)
		rc = e->subject_exists ? smfi_chgheader(ctx, (char *) "Subject",
		                                        1, (char *) e->subject)
		                       : smfi_addheader(ctx, (char *) "Subject",
		                                        (char *) e->subject);
	for (size_t i = MESSAGE_SIGNATURES; i-- > 0 && rc == MI_SUCCESS;)
		if (e->signature[i] != NULL)
			rc = smfi_insheader(ctx, 0, (char *) "DKIM-Signature",
			                    (char *) e->signature[i]);
	return rc == MI_SUCCESS ? 0 : -1;
}

/* milter_eom - finish: refuse, or apply the edits and accept */
static sfsistat
milter_eom(SMFICTX *ctx)
{
	struct milter_session *s = milter_session_get(ctx);
	struct message_edits edits;
	struct message_reply reply;
	enum message_step step;
	sfsistat rc = SMFIS_CONTINUE;

	if (s == NULL || s->msg == NULL) {
		log_error("end of message without a message context; "
		          "deferring");
		return SMFIS_TEMPFAIL;
	}
	step = message_eom(s->msg, smfi_getsymval(ctx, milter_macros_eom),
	                   &edits, &reply);
	if (step != MESSAGE_CONTINUE) {
		rc = milter_reply(ctx, step, &reply);
	} else if (milter_edit(ctx, &edits) < 0) {
		log_error("the MTA refused a header change to the message "
		          "from %s; deferring",
		          message_from_domain(s->msg));
		rc = SMFIS_TEMPFAIL;
	}
	milter_message_end(s);
	__atomic_add_fetch(&milter_ncompleted, 1, __ATOMIC_RELAXED);
	return rc;
}

/* milter_abort - the message ends without an end-of-message */
static sfsistat
milter_abort(SMFICTX *ctx)
{
	struct milter_session *s = milter_session_get(ctx);

	if (s != NULL) {
		milter_message_end(s);
		milter_quickack(s);
	}
	return SMFIS_CONTINUE;
}

/* milter_close - the session ends; may come without a connect */
static sfsistat
milter_close(SMFICTX *ctx)
{
	struct milter_session *s = milter_session_get(ctx);

	if (s == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	milter_message_end(s);
	runtime_release(s->rt);
	free(s);
	__atomic_sub_fetch(&milter_nsessions, 1, __ATOMIC_RELAXED);
	return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
    .xxfi_name = milter_name,
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
    .xxfi_connect = milter_connect,
    .xxfi_envfrom = milter_envfrom,
    .xxfi_envrcpt = milter_envrcpt,
    .xxfi_data = milter_data,
    .xxfi_header = milter_header,
    .xxfi_eoh = milter_eoh,
    .xxfi_body = milter_body,
    .xxfi_eom = milter_eom,
    .xxfi_abort = milter_abort,
    .xxfi_close = milter_close,
    .xxfi_negotiate = milter_negotiate,
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
 * milter_connect_self - can we connect to the socket of spec?  Used to
 * see whether another process serves a unix socket (libmilter replaces
 * the file without asking, which would silently steal the socket of a
 * running instance), and to wake libmilter's listener (milter_stop).
 * A wildcard inet address is reached through loopback.
 */
static int
milter_connect_self(const struct sockspec *spec)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char host[sizeof(spec->host)], port[8];
	int fd, rc = -1;

	if (spec->kind == SOCKSPEC_UNIX) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return 0;
		util_strlcpy(sun.sun_path, spec->path, sizeof(sun.sun_path));
		rc = connect(fd, (struct sockaddr *) &sun, sizeof(sun));
		close(fd);
		return rc == 0;
	}
	util_strlcpy(host, spec->host + (spec->host[0] == '['), sizeof(host));
	host[strcspn(host, "]")] = '\0';
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
		util_strlcpy(host, host[0] == '0' ? "127.0.0.1" : "::1",
		             sizeof(host));
	snprintf(port, sizeof(port), "%d", spec->port);
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return 0;
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		close(fd);
	}
	freeaddrinfo(ai);
	return rc == 0;
}

/* milter_listen - register and open the socket */
int
milter_listen(const struct config *cfg, char *why, size_t whylen)
{
	struct sockspec spec;
	char *conn = xstrdup(cfg->socket);
	mode_t old_umask;
	int rc;

	if (sockspec_parse(cfg->socket, &spec, why, whylen) < 0)
		return -1;
	if (spec.kind == SOCKSPEC_UNIX && milter_connect_self(&spec))
		return util_why(why, whylen,
		                "%s is in use by a running "
		                "process (another relaygate?)",
		                cfg->socket);
	if (smfi_register(milter_desc) != MI_SUCCESS ||
	    smfi_setconn(conn) != MI_SUCCESS) {
		free(conn);
		return util_why(why, whylen, "libmilter refused to register");
	}
	free(conn);
	/* No one may connect before the mode is set. */
	old_umask = umask(0177);
	errno = 0;
	rc = smfi_opensocket(1);
	umask(old_umask);
	if (rc != MI_SUCCESS)
		return util_why(why, whylen, "cannot listen on %s%s%s",
		                cfg->socket, errno ? ": " : "",
		                errno ? strerror(errno) : "");
	milter_spec = spec;
	if (spec.kind != SOCKSPEC_UNIX) {
		if (tcptune_listener(spec.port) < 0)
			log_warning("could not set TCP_NODELAY on the milter "
			            "socket (port %d): replies may wait for "
			            "delayed ACKs",
			            spec.port);
		return 0;
	}
	return milter_unix_perms(cfg, spec.path, why, whylen);
}

/* milter_setup - what every message works with */
void
milter_setup(struct judge *judge, struct signer *signer)
{
	milter_judge = judge;
	milter_signer = signer;
}

/* milter_unlink_socket - remove our unix socket file */
void
milter_unlink_socket(void)
{
	if (milter_spec.kind == SOCKSPEC_UNIX && milter_spec.path[0] != '\0')
		(void) unlink(milter_spec.path);
}

/* milter_run - serve until stopped */
int
milter_run(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}

/* milter_stopper - smfi_stop() may block: see milter_stop() */
static void *
milter_stopper(void *done)
{
	smfi_stop();
	__atomic_store_n((int *) done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * milter_stop - stop libmilter now.  smfi_stop() sets the stop flag and
 * then waits for the listener's lock, which the listener holds while it
 * polls for up to 5 s; so it runs in a thread of its own while we connect
 * to our own socket until it returns: the listener wakes, sees the flag
 * and quits.  (If the socket cannot be reached, libmilter's own 5-second
 * check ends it.)
 */
void
milter_stop(void)
{
	static int done;
	pthread_t tid;
	int64_t give_up = util_monotonic_ms() + 6000;

	if (pthread_create(&tid, NULL, milter_stopper, &done) != 0) {
		smfi_stop();
		return;
	}
	pthread_detach(tid);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE) &&
	       util_monotonic_ms() < give_up) {
		(void) milter_connect_self(&milter_spec);
		usleep(20000);
	}
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
