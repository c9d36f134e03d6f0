#ifndef MILTLOAD_MSTATS_H
#define MILTLOAD_MSTATS_H

/*
 * mstats - what a load run measured: message outcomes by kind and the
 * latency of every decided message.
 *
 * MODEL
 *	Each worker fills its own struct mstats; at the end they are merged
 *	into one and reported.  A message is "decided" when the milter gave
 *	a final answer: ok (continue or accept at end of message), tempfail
 *	(tempfail or a 4xx reply code, at any stage), reject (reject or a
 *	5xx reply code) or discard.  It failed when the session broke:
 *	protocol (a malformed or misplaced reply), timeout, connection
 *	(connect refused, closed, read or write error).  Latency is from the
 *	MAIL command to the final reply, in microseconds; only decided
 *	messages have one.  Percentiles are nearest-rank over all samples.
 *
 * OWNERSHIP
 *	mstats_init() / mstats_free() bracket a struct's life.
 *	mstats_merge() copies.
 *
 * CONCURRENCY
 *	A struct mstats belongs to one thread at a time.
 *
 * ERRORS
 *	None; allocation failure panics.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum mstats_kind {
	MSTATS_OK,
	MSTATS_TEMPFAIL,
	MSTATS_REJECT,
	MSTATS_DISCARD,
	MSTATS_PROTOCOL,
	MSTATS_TIMEOUT,
	MSTATS_CONNECTION,
	MSTATS_KINDS
};

struct mstats {
	unsigned long count[MSTATS_KINDS];
	unsigned long signed_msgs; /* decided messages with an insheader */
	uint32_t *lat_us;          /* latencies of decided messages */
	size_t n;
	size_t cap;
	char first_error[256]; /* the first failure's reason, or "" */
};

/* mstats_init - empty statistics */
void mstats_init(struct mstats *s);

/* mstats_free - release the samples */
void mstats_free(struct mstats *s);

/* mstats_decided - a decided message of this kind and latency */
void mstats_decided(struct mstats *s, enum mstats_kind kind, uint64_t us,
                    int signed_msg);

/* mstats_failed - a failed message; why is kept if it is the first */
void mstats_failed(struct mstats *s, enum mstats_kind kind, const char *why);

/* mstats_merge - add src to dst */
void mstats_merge(struct mstats *dst, const struct mstats *src);

/* mstats_percentile_us - nearest-rank percentile p (0..100); sorts */
uint32_t mstats_percentile_us(struct mstats *s, double p);

/*
 * mstats_report - one line of key=value pairs: messages, seconds, rate
 * (decided messages per second), p50_ms, p99_ms, max_ms, then the count
 * of every kind, signed and first_error.  Sorts the samples.
 */
void mstats_report(struct mstats *s, double seconds, FILE *out);

/* mstats_kind_name - "ok", "tempfail", ... */
const char *mstats_kind_name(enum mstats_kind kind);

#endif
