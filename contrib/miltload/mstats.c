/*
 * mstats - outcomes and latencies of a load run.
 */

#include <stdlib.h>
#include <string.h>

#include "mstats.h"
#include "util.h"

/* mstats_init - empty statistics */
void
mstats_init(struct mstats *s)
{
	memset(s, 0, sizeof(*s));
}

/* mstats_free - release the samples */
void
mstats_free(struct mstats *s)
{
	free(s->lat_us);
	mstats_init(s);
}

/* mstats_push - one latency sample */
static void
mstats_push(struct mstats *s, uint32_t us)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->lat_us = xrealloc(s->lat_us, s->cap * sizeof(*s->lat_us));
	}
	s->lat_us[s->n++] = us;
}

/* mstats_decided - a decided message of this kind and latency */
void
mstats_decided(struct mstats *s, enum mstats_kind kind, uint64_t us,
               int signed_msg)
{
	s->count[kind]++;
	if (signed_msg)
		s->signed_msgs++;
	mstats_push(s, us > UINT32_MAX ? UINT32_MAX : (uint32_t) us);
}

/* mstats_failed - a failed message; why is kept if it is the first */
void
mstats_failed(struct mstats *s, enum mstats_kind kind, const char *why)
{
	s->count[kind]++;
	if (s->first_error[0] == '\0')
		util_strlcpy(s->first_error, why != NULL ? why : "?",
		             sizeof(s->first_error));
}

/* mstats_merge - add src to dst */
void
mstats_merge(struct mstats *dst, const struct mstats *src)
{
	for (int k = 0; k < MSTATS_KINDS; k++)
		dst->count[k] += src->count[k];
	dst->signed_msgs += src->signed_msgs;
	for (size_t i = 0; i < src->n; i++)
		mstats_push(dst, src->lat_us[i]);
	if (dst->first_error[0] == '\0')
		util_strlcpy(dst->first_error, src->first_error,
		             sizeof(dst->first_error));
}

/* mstats_cmp - qsort order of samples */
static int
mstats_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

	return x < y ? -1 : x > y;
}

/* mstats_percentile_us - nearest-rank percentile p (0..100); sorts */
uint32_t
mstats_percentile_us(struct mstats *s, double p)
{
	size_t rank;

	if (s->n == 0)
		return 0;
	qsort(s->lat_us, s->n, sizeof(*s->lat_us), mstats_cmp);
	rank = (size_t) (p / 100.0 * (double) s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->lat_us[rank - 1];
}

/* mstats_kind_name - "ok", "tempfail", ... */
const char *
mstats_kind_name(enum mstats_kind kind)
{
	static const char *const names[MSTATS_KINDS] = {
	    "ok",       "tempfail", "reject",    "discard",
	    "protocol", "timeout",  "connection"};

	return (unsigned) kind < MSTATS_KINDS ? names[kind] : "?";
}

/* mstats_report - one line of key=value pairs */
void
mstats_report(struct mstats *s, double seconds, FILE *out)
{
	unsigned long total = 0;
	double decided = (double) s->n;

	for (int k = 0; k < MSTATS_KINDS; k++)
		total += s->count[k];
	fprintf(out, "miltload: messages=%lu seconds=%.3f rate=%.1f", total,
	        seconds, seconds > 0 ? decided / seconds : 0.0);
	fprintf(out, " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f",
	        mstats_percentile_us(s, 50) / 1000.0,
	        mstats_percentile_us(s, 99) / 1000.0,
	        mstats_percentile_us(s, 100) / 1000.0);
	for (int k = 0; k < MSTATS_KINDS; k++)
		fprintf(out, " %s=%lu", mstats_kind_name((enum mstats_kind) k),
		        s->count[k]);
	fprintf(out, " signed=%lu first_error=\"", s->signed_msgs);
	for (const char *p = s->first_error; *p; p++)
		fputc(*p == '"' || (unsigned char) *p < 0x20 ? '\'' : *p, out);
	fprintf(out, "\"\n");
}
