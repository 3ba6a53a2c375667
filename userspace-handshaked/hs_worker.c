// SPDX-License-Identifier: GPL-2.0
/*
 * tapsec-handshaked: the worker threads.
 *
 * The listener hands each accepted handshake to the least loaded worker.
 * A worker runs all of its handshakes at once, non-blocking, each waiting
 * in the worker's epoll set for its socket or its deadline.  Blocking
 * workers would not do: when both ends of a connection are tapsec sockets
 * of this host, both handshakes run here, and N clients could hold all N
 * workers while the servers they wait for sit in the queue behind them.
 *
 * Workers answer TAPSEC_CMD_HANDSHAKE_DONE on the listener's request
 * socket, the port that accepted the handshake (hs_netlink.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "hs_netlink.h"
#include "hs_tls.h"
#include "hs_worker.h"

#define HS_MAX_EVENTS	64

struct hs_job {
	struct hs_request *req;
	struct hs_config *cfg;		/* a reference: the one it began with */
	const struct hs_handler *h;	/* the handler class of its protocol */
	void *hs;			/* its handshake, h's */
	uint64_t deadline;		/* CLOCK_MONOTONIC milliseconds */
	uint64_t wake;			/* step again then (DTLS), 0: never */
	uint32_t events;		/* waited for in epoll, 0: not added */
	struct hs_job *prev, *next;	/* queue (next only), or active list */
};

struct hs_worker {
	struct hs_pool *pool;
	pthread_t thread;
	int epfd;
	int wakefd;			/* eventfd: jobs queued, or stop */

	pthread_mutex_t lock;		/* protects queue and stopping */
	struct hs_job *queue;		/* handed over, not started yet */
	struct hs_job **queue_tail;
	bool stopping;

	atomic_uint load;		/* queued and running jobs */
	struct hs_job *active;		/* running; the worker's own */
};

struct hs_pool {
	struct hs_nl *nl;
	unsigned int n;			/* workers running */
	struct hs_worker workers[];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_result(const struct hs_request *req,
		       const struct hs_result *res)
{
	const char *role = req->role == TAPSEC_ROLE_SERVER ? "server" :
							     "client";
	const char *errname = strerrorname_np(res->status);

	if (res->status)
		hs_log("handshake failed (%s, peer %s): %s [%s]", role,
		       req->peer_str, res->reason, errname ? errname : "?");
	else
		hs_debug("handshake done (%s, peer %s): %s, %s, ALPN %s%s%s",
			 role, req->peer_str, res->version_name,
			 res->cipher_name, res->alpn[0] ? res->alpn : "none",
			 res->peer_auth ? ", peer authenticated" : "",
			 res->resumed ? ", resumed" : "");
}

/* Report the outcome to the kernel and let the socket go. */
static void finish_job(struct hs_worker *w, struct hs_job *job,
		       const struct hs_result *res)
{
	int err;

	/*
	 * epoll watches the open file, not the descriptor, and the file
	 * stays open in the application after close(): remove it first.
	 */
	if (job->events)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, job->req->fd, NULL);
	log_result(job->req, res);
	err = hs_nl_done(w->pool->nl, job->req->fd, res);
	/* EINVAL: the kernel ended it first (its timeout), or a bad message. */
	if (err)
		hs_log("HANDSHAKE_DONE (peer %s) refused: %s%s",
		       job->req->peer_str, strerror(-err),
		       err == -EINVAL ? " (handshake already over?)" : "");
	close(job->req->fd);
	free(res->chain);

	if (job->prev)
		job->prev->next = job->next;
	else
		w->active = job->next;
	if (job->next)
		job->next->prev = job->prev;
	if (job->hs)
		job->h->free(job->hs);
	/* After the session: its credentials belong to the configuration. */
	hs_config_put(job->cfg);
	hs_request_free(job->req);
	free(job);
	atomic_fetch_sub(&w->load, 1);
}

/* Run the handshake as far as it goes now, then wait or finish. */
static void advance_job(struct hs_worker *w, struct hs_job *job)
{
	struct hs_result res = { 0 };
	struct epoll_event ev = { .data.ptr = job };
	enum hs_want want;
	int wake;

	want = job->h->step(job->hs, &res);
	if (want == HS_FINISHED) {
		finish_job(w, job, &res);
		return;
	}
	wake = job->h->wake_ms(job->hs);
	job->wake = wake < 0 ? 0 : now_ms() + (uint64_t)wake;
	ev.events = want == HS_WANT_READ ? EPOLLIN : EPOLLOUT;
	if (ev.events == job->events)
		return;
	if (epoll_ctl(w->epfd, job->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		      job->req->fd, &ev)) {
		hs_fail(&res, errno, "cannot wait for the socket: %s",
			strerror(errno));
		finish_job(w, job, &res);
		return;
	}
	job->events = ev.events;
}

/* The handler class of a record protocol, NULL for none. */
static const struct hs_handler *handler_for(uint32_t protocol)
{
	switch (protocol) {
	case TAPSEC_PROTO_TLS:
	case TAPSEC_PROTO_DTLS:
		return &hs_tls_handler;
	case TAPSEC_PROTO_WIREGUARD:
		return &hs_wg_handler;
	default:
		return NULL;
	}
}

static void start_job(struct hs_worker *w, struct hs_job *job)
{
	struct hs_result res = { 0 };

	job->deadline = now_ms() + job->req->timeout_ms;
	job->prev = NULL;
	job->next = w->active;
	if (w->active)
		w->active->prev = job;
	w->active = job;

	job->cfg = hs_config_get();
	job->h = handler_for(job->req->protocol);
	if (!job->cfg)
		hs_fail(&res, ENOENT, "no configuration");
	else if (job->req->bad_request)
		hs_fail(&res, job->req->bad_request,
			"unusable handshake request");
	else if (!job->h)
		hs_fail(&res, EPROTONOSUPPORT, "record protocol %u not handled",
			job->req->protocol);
	else
		job->hs = job->h->start(job->cfg, w->pool->nl, job->req, &res);
	if (job->hs)
		advance_job(w, job);
	else
		finish_job(w, job, &res);
}

/*
 * Fail the handshakes past their deadline and step those whose wake time
 * came (DTLS retransmissions); returns the milliseconds until the next
 * deadline or wake time, -1 if none.  The wait is computed after the
 * steps, from the wake times they set: a job just stepped must be woken
 * for its next retransmission and its deadline too, not only by I/O.
 */
static int expire_jobs(struct hs_worker *w)
{
	struct hs_result res = { 0 };
	struct hs_job *job, *next;
	uint64_t now = now_ms(), wait = UINT64_MAX;

	hs_fail(&res, ETIMEDOUT, "handshake timed out");
	for (job = w->active; job; job = next) {
		next = job->next;
		if (job->deadline <= now)
			finish_job(w, job, &res);
		else if (job->wake && job->wake <= now)
			advance_job(w, job);	/* may finish it */
	}
	now = now_ms();
	for (job = w->active; job; job = job->next) {
		if (job->deadline <= now || (job->wake && job->wake <= now))
			return 0;
		if (job->deadline - now < wait)
			wait = job->deadline - now;
		if (job->wake && job->wake - now < wait)
			wait = job->wake - now;
	}
	if (wait == UINT64_MAX)
		return -1;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

/* Start what the listener queued; returns whether to stop when idle. */
static bool start_queued(struct hs_worker *w)
{
	struct hs_job *job, *next;
	uint64_t count;
	bool stopping;

	if (read(w->wakefd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		hs_log("worker: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&w->lock);
	job = w->queue;
	w->queue = NULL;
	w->queue_tail = &w->queue;
	stopping = w->stopping;
	pthread_mutex_unlock(&w->lock);

	for (; job; job = next) {
		next = job->next;
		start_job(w, job);
	}
	return stopping;
}

static void *worker_main(void *arg)
{
	struct epoll_event ev[HS_MAX_EVENTS];
	struct hs_worker *w = arg;
	bool stopping = false;
	int i, n, timeout;

	for (;;) {
		timeout = expire_jobs(w);
		if (stopping && !w->active)
			break;
		n = epoll_wait(w->epfd, ev, HS_MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			hs_log("worker: epoll_wait: %s", strerror(errno));
			n = 0;
		}
		for (i = 0; i < n; i++) {
			/* The eventfd is the entry without a job. */
			if (!ev[i].data.ptr)
				stopping |= start_queued(w);
			else
				advance_job(w, ev[i].data.ptr);
		}
	}
	return NULL;
}

static void worker_cleanup(struct hs_worker *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	pthread_mutex_destroy(&w->lock);
}

static int worker_init(struct hs_pool *pool, struct hs_worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int err;

	w->pool = pool;
	w->queue_tail = &w->queue;
	pthread_mutex_init(&w->lock, NULL);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->epfd < 0 || w->wakefd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev)) {
		hs_log("worker: %s", strerror(errno));
		return -1;
	}
	err = pthread_create(&w->thread, NULL, worker_main, w);
	if (err) {
		hs_log("worker: cannot start a thread: %s", strerror(err));
		return -1;
	}
	return 0;
}

struct hs_pool *hs_pool_start(unsigned int workers, struct hs_nl *nl)
{
	struct hs_pool *pool;
	struct hs_worker *w;

	pool = calloc(1, sizeof(*pool) + workers * sizeof(*w));
	if (!pool) {
		hs_log("out of memory");
		return NULL;
	}
	pool->nl = nl;
	for (pool->n = 0; pool->n < workers; pool->n++) {
		w = &pool->workers[pool->n];
		w->epfd = w->wakefd = -1;
		if (worker_init(pool, w)) {
			worker_cleanup(w);
			hs_pool_stop(pool);
			return NULL;
		}
	}
	return pool;
}

void hs_pool_submit(struct hs_pool *pool, struct hs_request *req)
{
	struct hs_worker *w = &pool->workers[0];
	struct hs_job *job = calloc(1, sizeof(*job));
	uint64_t one = 1;

	if (!job) {
		/* The kernel's timeout will end it. */
		hs_log("out of memory: dropping the handshake with %s",
		       req->peer_str);
		close(req->fd);
		hs_request_free(req);
		return;
	}
	job->req = req;
	for (unsigned int i = 1; i < pool->n; i++)
		if (atomic_load(&pool->workers[i].load) < atomic_load(&w->load))
			w = &pool->workers[i];
	atomic_fetch_add(&w->load, 1);

	pthread_mutex_lock(&w->lock);
	*w->queue_tail = job;
	w->queue_tail = &job->next;
	pthread_mutex_unlock(&w->lock);
	if (write(w->wakefd, &one, sizeof(one)) < 0)
		hs_log("worker: eventfd: %s", strerror(errno));
}

void hs_pool_stop(struct hs_pool *pool)
{
	uint64_t one = 1;
	unsigned int i;

	for (i = 0; i < pool->n; i++) {
		struct hs_worker *w = &pool->workers[i];

		pthread_mutex_lock(&w->lock);
		w->stopping = true;
		pthread_mutex_unlock(&w->lock);
		if (write(w->wakefd, &one, sizeof(one)) < 0)
			hs_log("worker: eventfd: %s", strerror(errno));
	}
	for (i = 0; i < pool->n; i++) {
		pthread_join(pool->workers[i].thread, NULL);
		worker_cleanup(&pool->workers[i]);
	}
	free(pool);
}
