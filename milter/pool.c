/*
 * pool - bounded parallel work, results in input order.
 */

#include <pthread.h>
#include <stdlib.h>

#include "pool.h"
#include "util.h"

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t ready; /* a result arrived */
	pthread_cond_t room;  /* the caller took one: workers may go on */
	size_t n, next, delivered, window;
	void **result;
	unsigned char *finished;
	pool_work_fn work;
	void *arg;
};

/* pool_take - the next input a worker may start, or n when none is left */
static size_t
pool_take(struct pool *p)
{
	while (p->next < p->n && p->next >= p->delivered + p->window)
		pthread_cond_wait(&p->room, &p->lock);
	return p->next < p->n ? p->next++ : p->n;
}

/* pool_worker - take inputs until none is left */
static void *
pool_worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	pthread_mutex_lock(&p->lock);
	while ((i = pool_take(p)) < p->n) {
		void *r;

		pthread_mutex_unlock(&p->lock);
		r = p->work(p->arg, i);
		pthread_mutex_lock(&p->lock);
		p->result[i] = r;
		p->finished[i] = 1;
		pthread_cond_broadcast(&p->ready);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* pool_collect - hand every result to done(), in order */
static void
pool_collect(struct pool *p, pool_done_fn done)
{
	for (size_t i = 0; i < p->n; i++) {
		void *r;

		pthread_mutex_lock(&p->lock);
		while (!p->finished[i])
			pthread_cond_wait(&p->ready, &p->lock);
		r = p->result[i];
		p->delivered = i + 1;
		pthread_cond_broadcast(&p->room);
		pthread_mutex_unlock(&p->lock);
		done(p->arg, i, r);
	}
}

/* pool_run - the workers, then the results in order */
void
pool_run(size_t n, unsigned threads, size_t window, pool_work_fn work,
         pool_done_fn done, void *arg)
{
	struct pool p = {.n = n, .work = work, .arg = arg};
	pthread_t *tid;
	size_t started = 0;

	if (threads == 0)
		threads = 1;
	p.window = window < threads ? threads : window;
	p.result = xcalloc(n ? n : 1, sizeof(*p.result));
	p.finished = xcalloc(n ? n : 1, 1);
	tid = xcalloc(threads, sizeof(*tid));
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.ready, NULL);
	pthread_cond_init(&p.room, NULL);
	for (unsigned t = 0; t < threads && t < n; t++)
		if (pthread_create(&tid[started], NULL, pool_worker, &p) == 0)
			started++;
	if (started == 0)
		for (size_t i = 0; i < n; i++)
			done(arg, i, work(arg, i));
	else
		pool_collect(&p, done);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_cond_destroy(&p.room);
	pthread_cond_destroy(&p.ready);
	pthread_mutex_destroy(&p.lock);
	free(tid);
	free(p.finished);
	free(p.result);
}
