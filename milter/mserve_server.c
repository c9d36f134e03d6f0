/*
 * mserve_server - accept MTA connections and give each a session thread
 * (mserve.h).  A thread whose session ended waits a while for the next
 * connection instead of exiting: creating a thread costs more than a
 * short session's protocol work, and Postfix opens a milter connection
 * for every SMTP session.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mserve.h"
#include "tcptune.h"
#include "util.h"

#define MSERVE_STACK (2u << 20) /* a session thread's stack */
#define MSERVE_IDLE_MAX 64      /* threads kept waiting for a connection */
#define MSERVE_IDLE_S 60        /* how long an idle thread waits */

/* A connection: being served, or queued for an idle thread. */
struct mserve_conn {
	struct mserve *srv;
	int fd;
	struct mserve_conn *next;  /* in conns */
	struct mserve_conn *qnext; /* in the queue */
};

struct mserve {
	int fd; /* listening; -1 once closed (under lock) */
	int tcp;
	const struct mserve_ops *ops;
	pthread_attr_t attr;
	pthread_mutex_t lock;
	pthread_cond_t work;       /* a connection queued, or stopping */
	pthread_cond_t gone;       /* nthreads fell to 0 */
	struct mserve_conn *conns; /* accepted, not yet closed; under lock */
	struct mserve_conn *queue; /* for idle threads; under lock */
	long nthreads;             /* under lock */
	long nidle;                /* threads waiting for a connection */
	long nqueued;              /* connections in the queue */
	int stopping;              /* under lock */
};

/* mserve_new - a server on a listening socket */
struct mserve *
mserve_new(int listen_fd, int tcp, const struct mserve_ops *ops)
{
	struct mserve *srv = xcalloc(1, sizeof(*srv));

	srv->fd = listen_fd;
	srv->tcp = tcp;
	srv->ops = ops;
	pthread_attr_init(&srv->attr);
	pthread_attr_setdetachstate(&srv->attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&srv->attr, MSERVE_STACK);
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->work, NULL);
	pthread_cond_init(&srv->gone, NULL);
	return srv;
}

/* mserve_conn_drop - unregister and close a connection (lock held) */
static void
mserve_conn_drop(struct mserve *srv, struct mserve_conn *conn)
{
	for (struct mserve_conn **p = &srv->conns; *p != NULL; p = &(*p)->next)
		if (*p == conn) {
			*p = conn->next;
			break;
		}
	close(conn->fd);
	free(conn);
}

/*
 * mserve_next - the next connection for a thread whose session ended, or
 * NULL when it should exit: stopping, enough threads idle already, or
 * none came within MSERVE_IDLE_S (lock held).
 */
static struct mserve_conn *
mserve_next(struct mserve *srv)
{
	struct timespec until;
	struct mserve_conn *conn;

	if (srv->stopping || srv->nidle >= MSERVE_IDLE_MAX)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += MSERVE_IDLE_S;
	srv->nidle++;
	while (srv->queue == NULL && !srv->stopping &&
	       pthread_cond_timedwait(&srv->work, &srv->lock, &until) == 0)
		;
	srv->nidle--;
	if ((conn = srv->queue) != NULL) {
		srv->queue = conn->qnext;
		srv->nqueued--;
	}
	return conn;
}

/* mserve_thread_gone - a thread ends (lock held) */
static void
mserve_thread_gone(struct mserve *srv)
{
	if (--srv->nthreads == 0)
		pthread_cond_broadcast(&srv->gone);
}

/* mserve_thread - serve connections until none is left for it */
static void *
mserve_thread(void *arg)
{
	struct mserve_conn *conn = arg;
	struct mserve *srv = conn->srv;

	for (;;) {
		mserve_session_serve(conn->fd, srv->tcp, srv->ops);
		pthread_mutex_lock(&srv->lock);
		mserve_conn_drop(srv, conn);
		if ((conn = mserve_next(srv)) == NULL)
			break;
		pthread_mutex_unlock(&srv->lock);
	}
	mserve_thread_gone(srv);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/*
 * mserve_start - register an accepted connection and hand it to an idle
 * thread, or to a new one; when stopping or out of threads it is closed
 * (the MTA applies its default action).
 */
static void
mserve_start(struct mserve *srv, int fd)
{
	struct mserve_conn *conn = xcalloc(1, sizeof(*conn));
	pthread_t tid;
	int err;

	conn->srv = srv;
	conn->fd = fd;
	pthread_mutex_lock(&srv->lock);
	if (srv->stopping) {
		pthread_mutex_unlock(&srv->lock);
		close(fd);
		free(conn);
		return;
	}
	conn->next = srv->conns;
	srv->conns = conn;
	if (srv->nqueued < srv->nidle) {
		conn->qnext = srv->queue;
		srv->queue = conn;
		srv->nqueued++;
		pthread_cond_signal(&srv->work);
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	srv->nthreads++;
	pthread_mutex_unlock(&srv->lock);
	if ((err = pthread_create(&tid, &srv->attr, mserve_thread, conn)) !=
	    0) {
		log_error("cannot start a milter session thread: %s; "
		          "closing the MTA's connection",
		          strerror(err));
		pthread_mutex_lock(&srv->lock);
		mserve_conn_drop(srv, conn);
		mserve_thread_gone(srv);
		pthread_mutex_unlock(&srv->lock);
	}
}

/* mserve_stopping - has mserve_stop() been called? */
static int
mserve_stopping(struct mserve *srv)
{
	int stopping;

	pthread_mutex_lock(&srv->lock);
	stopping = srv->stopping;
	pthread_mutex_unlock(&srv->lock);
	return stopping;
}

/* mserve_accept_failed - 0 to go on after an accept() error, -1 to stop */
static int
mserve_accept_failed(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
		return 0;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		log_error("cannot accept a milter connection: %s; retrying",
		          strerror(err));
		usleep(100000);
		return 0;
	default:
		log_error("cannot accept milter connections: %s",
		          strerror(err));
		return -1;
	}
}

/* mserve_run - accept and serve until stopped */
int
mserve_run(struct mserve *srv)
{
	int rc = 0, fd;

	while (!mserve_stopping(srv)) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0 && srv->tcp)
			(void) tcptune_nodelay(fd);
		if (fd >= 0)
			mserve_start(srv, fd);
		else if (!mserve_stopping(srv) &&
		         mserve_accept_failed(errno) < 0) {
			rc = -1;
			break;
		}
	}
	mserve_stop(srv);
	/* Close the socket now: connections still waiting to be accepted
	   are refused at once instead of hanging until the sessions end. */
	pthread_mutex_lock(&srv->lock);
	close(srv->fd);
	srv->fd = -1;
	while (srv->nthreads > 0)
		pthread_cond_wait(&srv->gone, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	return rc;
}

/* mserve_stop - stop accepting, cut the sessions, wake idle threads */
void
mserve_stop(struct mserve *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->stopping = 1;
	if (srv->fd >= 0)
		(void) shutdown(srv->fd, SHUT_RDWR);
	for (struct mserve_conn *c = srv->conns; c != NULL; c = c->next)
		(void) shutdown(c->fd, SHUT_RDWR);
	pthread_cond_broadcast(&srv->work);
	pthread_mutex_unlock(&srv->lock);
}

/* mserve_free - close the socket, free the server */
void
mserve_free(struct mserve *srv)
{
	if (srv == NULL)
		return;
	if (srv->fd >= 0)
		close(srv->fd);
	pthread_attr_destroy(&srv->attr);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->work);
	pthread_cond_destroy(&srv->gone);
	free(srv);
}
