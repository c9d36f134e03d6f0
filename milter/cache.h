#ifndef RELAYGATE_CACHE_H
#define RELAYGATE_CACHE_H

/*
 * cache - the shared-memory table of per-domain verdicts and counters.
 *
 * MODEL
 *	One POSIX shared-memory segment ("/relaygate") holds a fixed number
 *	of 256-byte slots of records without pointers, so every thread of
 *	relaygate, a restarted relaygate, a second instance on the same host
 *	and relaygatectl see one table.  A record is keyed by a normalized
 *	domain (domain.h) and holds an opaque verdict payload of at most
 *	CACHE_PAYLOAD_MAX bytes, copied in and out (the verdict module owns
 *	its meaning; it must hold codes, not pointers or long text), plus
 *	what the cache itself needs: checked_at, expires_at, stale_until,
 *	first_seen_bad, last_seen, a refresh claim, CACHE_COUNTERS message
 *	counters (indices are the caller's), a state byte (the caller's
 *	overall state, for listing) and the caller's mark: a small code of
 *	what it last announced about the domain, with the time of its last
 *	reminder, changed only by cache_mark() and cache_remind(), which
 *	compare and set under the record's lock so that one thread of one
 *	process wins each change.  A record may hold history without a
 *	verdict: after cache_flush(), after cache_count() of an uncached
 *	domain, or after a snapshot was loaded; cache_get() reports MISS
 *	for it, and the next cache_put() keeps its history.
 *	A record takes one slot when its domain and payload together fit in
 *	152 bytes (a typical domain and an encoded verdict do), else two
 *	neighbouring slots of the same bucket; the capacity counts slots.
 *	The table is set-associative: a domain hashes (SipHash-1-3, keyed
 *	per segment) to two buckets of CACHE_WAYS slots and lives in one of
 *	them.  When both are full, the CLOCK hand of one bucket evicts a
 *	record that was not read since the hand last passed (approximate
 *	LRU), so an insert never fails because the table is full; with two
 *	choices eviction starts when the table is about 90% full.
 *	Besides the table, the segment holds CACHE_METRICS counters whose
 *	meaning is the caller's (metrics.h), added to per CPU like the
 *	cache's own statistics, so every process on the host counts into
 *	one place that relaygatectl can read.
 *	The segment starts with a header (magic, layout version, record and
 *	bucket sizes, bucket count): it is created when absent, re-created
 *	when incompatible (other layout or capacity; the old one is marked
 *	retired and unlinked) and otherwise kept across restarts.
 *	Time is passed in by the caller ("now", seconds since the epoch) to
 *	every call, so tests control the clock.
 *
 *	Intended use by the verdict layer:
 *	  FRESH:   use it; when expires_at - now <= refresh-ahead window and
 *	           cache_claim() returns 1, re-check in the background and
 *	           cache_put() the result (that releases the claim).
 *	  STALE:   the caller that wins cache_claim() re-checks now; on a DNS
 *	           temperror it uses the stale verdict; all others use the
 *	           stale verdict at once.
 *	  EXPIRED, MISS: check, one check per domain per process
 *	           (flight.h), then cache_put().
 *	A temporary (DNS failure) verdict without an older one to fall back
 *	on is put with a short TTL and max_stale 0.
 *
 * OWNERSHIP
 *	cache_open() returns a handle released with cache_close() (NULL is
 *	fine); the mapping lives as long as the handle.  Records are copied
 *	into caller memory; nothing returned points into the segment.  Domain
 *	and payload arguments are borrowed for the call.
 *
 * CONCURRENCY
 *	All functions but cache_open() and cache_close() are thread-safe and
 *	process-safe on the same segment.  Readers (cache_get, cache_foreach)
 *	never block: each record is a seqlock (a 32-bit sequence number and
 *	the record's 32-bit checksum in one atomic word); a reader copies the
 *	record with atomic loads, retries a bounded number of times while a
 *	writer is active and then reports a miss, and drops a copy whose
 *	checksum does not match.  A record that grows into two slots while
 *	the next one is taken moves within its buckets; a reader misses it
 *	for that moment.  Writers (put, count, claim, flush, merge)
 *	serialize per bucket with a robust process-shared mutex; when its
 *	owner died (kill -9) mid-update, the next locker rebuilds that bucket
 *	from its records (a record with an odd sequence number or a bad
 *	checksum is dropped) before marking the mutex consistent.  Statistics
 *	are atomic per-CPU counters in the segment.  A read-only handle never
 *	writes to the segment (no hit counters, no CLOCK reference bits).
 *
 * ERRORS
 *	cache_open() returns NULL with a reason; when it re-created an
 *	incompatible segment it succeeds, cache_origin() says so and "why"
 *	holds the reason, for the caller to log.  Writers return -1 and set
 *	errno (EROFS: read-only handle; EINVAL: bad domain, payload or
 *	action; ENOTRECOVERABLE: a bucket lock was abandoned by a failed
 *	recovery).  Nothing logs.
 *
 * SEE ALSO
 *	shm_overview(7), pthread_mutexattr_setrobust(3), flight.h,
 *	snapshot.h; H.-J. Boehm, "Can seqlocks get along with programming
 *	language memory models?" (MSPC 2012) for the reader's fences.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domain.h"

/* Bytes of opaque verdict a record holds; fixed by the layout version. */
#define CACHE_PAYLOAD_MAX 136

/* Message counters per record; what each index means is the caller's. */
#define CACHE_COUNTERS 6

/* The largest mark (cache_mark()); 0 means "none". */
#define CACHE_MARK_MAX 15

/* Counters of the segment's metrics area; their meaning is the caller's. */
#define CACHE_METRICS 32

/* Slots per bucket (the associativity of the table). */
#define CACHE_WAYS 8

/* The largest capacity cache_open() accepts (slots; 16 GiB). */
#define CACHE_CAPACITY_MAX ((size_t) 1 << 26)

/* cache_open() flags */
#define CACHE_READONLY 0x1 /* map read-only; never create (relaygatectl) */
#define CACHE_ATTACH 0x2   /* writable, but never create or re-create */

/* cache_flush() flags */
#define CACHE_FORGET 0x1 /* drop the history too, not only the verdict */

enum cache_origin {
	CACHE_ATTACHED,  /* an existing, compatible segment */
	CACHE_CREATED,   /* there was none */
	CACHE_RECREATED, /* the old one was incompatible; why says how */
};

enum cache_status {
	CACHE_MISS,    /* no record, or a record without a verdict */
	CACHE_FRESH,   /* now < expires_at */
	CACHE_STALE,   /* expired, but now < stale_until */
	CACHE_EXPIRED, /* now >= stale_until */
};

/* What a new verdict means for first_seen_bad. */
enum cache_grade {
	CACHE_GOOD, /* configured: first_seen_bad becomes 0 */
	CACHE_BAD,  /* misconfigured: first_seen_bad is set unless set */
	CACHE_TEMP, /* undecided (DNS failure): first_seen_bad is kept */
};

/* A verdict to store; see cache_put(). */
struct cache_verdict {
	const void *payload; /* copied; len <= CACHE_PAYLOAD_MAX */
	size_t len;
	unsigned state; /* the caller's overall state, 0..255 */
	enum cache_grade grade;
	int64_t ttl;       /* seconds, already clamped (cache_expiry()) */
	int64_t max_stale; /* seconds after expiry it may be served stale */
};

/* A consistent copy of one record. */
struct cache_record {
	char domain[DOMAIN_SIZE];
	int has_verdict; /* 0: history only; payload_len is 0 */
	unsigned state;  /* as last put (or loaded) */
	size_t payload_len;
	unsigned char payload[CACHE_PAYLOAD_MAX]; /* bytes past len: junk */
	int64_t checked_at;     /* last cache_put(); 0: never */
	int64_t expires_at;     /* checked_at + ttl */
	int64_t stale_until;    /* expires_at + max_stale */
	int64_t first_seen_bad; /* 0: not bad now */
	int64_t last_seen;      /* last cache_count(); 0: never */
	int64_t refresh_until;  /* a refresh claim is live until then */
	int64_t reminded_at;    /* last cache_mark() or cache_remind() */
	unsigned mark;          /* the caller's mark; 0: none */
	uint32_t checks;        /* cache_put() calls for this domain */
	uint32_t counters[CACHE_COUNTERS];
};

struct cache_stats {
	size_t capacity;      /* slots: records of one slot */
	size_t entries;       /* records in use (with or without verdict) */
	size_t doubles;       /* of them, records that take two slots */
	size_t segment_bytes; /* the whole mapping */
	size_t entry_bytes;   /* segment_bytes / capacity, index included */
	int64_t created_at;   /* when the segment was created */
	uint64_t hits;        /* cache_get() FRESH */
	uint64_t misses;      /* cache_get() MISS */
	uint64_t stale;       /* cache_get() STALE */
	uint64_t expired;     /* cache_get() EXPIRED */
	uint64_t inserts;     /* records created */
	uint64_t evictions;   /* records evicted by CLOCK */
	uint64_t repairs;     /* buckets rebuilt after a writer died */
	uint64_t unreadable;  /* reads given up (busy) or dropped (checksum) */
};

struct cache;

/*
 * cache_open - map the segment "name" ("/relaygate": a leading slash and
 * no other) with room for at least capacity records, creating it with
 * the given mode and group (gid (gid_t) -1: the process's) when absent
 * and re-creating it when incompatible.  CACHE_READONLY and CACHE_ATTACH
 * only attach to a compatible segment and ignore capacity, mode and gid.
 * Mode and group are also applied to an existing segment this user owns.
 */
struct cache *cache_open(const char *name, size_t capacity, mode_t mode,
                         gid_t gid, unsigned flags, char *why, size_t whylen);

/* cache_origin - whether cache_open() attached, created or re-created */
enum cache_origin cache_origin(const struct cache *c);

/*
 * cache_retired - has another process since re-created the segment?  The
 * handle still works, but is no longer shared: reopen it.
 */
int cache_retired(const struct cache *c);

/* cache_close - unmap; the segment stays for the next process */
void cache_close(struct cache *c);

/*
 * cache_destroy - mark the segment "name" retired and unlink it (tests,
 * or an operator discarding the table).  Absent is not an error.
 */
int cache_destroy(const char *name, char *why, size_t whylen);

/*
 * cache_get - look up a normalized domain.  For every status but a MISS
 * of an absent domain, out (may be NULL) receives the record, history
 * included; then out->domain[0] is '\0'.  A record a writer holds for
 * longer than a few retries, or that fails its checksum, is a MISS.
 */
enum cache_status cache_get(struct cache *c, const char *domain, int64_t now,
                            struct cache_record *out);

/*
 * cache_peek - cache_get() that leaves no trace: no statistics, no CLOCK
 * reference (a second look, e.g. by a single-flight leader).
 */
enum cache_status cache_peek(struct cache *c, const char *domain, int64_t now,
                             struct cache_record *out);

/*
 * cache_put - store a verdict checked at "now": expires_at = now + ttl,
 * stale_until = expires_at + max_stale.  Counters, last_seen and the
 * first_seen_bad of a CACHE_BAD or CACHE_TEMP verdict carry over; a
 * refresh claim is released.  May evict.  out (may be NULL) receives the
 * record as stored, first_seen_bad included.
 */
int cache_put(struct cache *c, const char *domain,
              const struct cache_verdict *v, int64_t now,
              struct cache_record *out);

/*
 * cache_count - add one to counter "action" (< CACHE_COUNTERS) of the
 * domain and set last_seen; an absent domain gets a history-only record
 * (so counts survive an eviction between lookup and count).  Counters
 * saturate at UINT32_MAX.
 */
int cache_count(struct cache *c, const char *domain, unsigned action,
                int64_t now);

/*
 * cache_claim - claim the refresh of a cached verdict until now + hold,
 * across threads and processes.  Returns 1 if the caller won (it should
 * re-check and cache_put(), which releases the claim), 0 if a live claim
 * is held by someone else, -1 if there is no verdict to refresh (errno
 * ENOENT: that is a miss; use single flight).  A claimer that dies
 * blocks refreshes only until its claim expires.
 */
int cache_claim(struct cache *c, const char *domain, int64_t now, int64_t hold);

/*
 * cache_mark - compare and set the caller's mark of a domain (what it last
 * announced, 1..CACHE_MARK_MAX; 0 for none): if the record's mark is
 * "from", it becomes "to" and reminded_at becomes now, and the call
 * returns 1: the caller announces the change.  Returns 0 when the mark is
 * not "from" (another thread or process announced first), -1 with errno
 * (ENOENT: no record; EINVAL: from == to or out of range).  out (may be
 * NULL) receives the record as it was before.  Verdicts, flushes without
 * CACHE_FORGET and counting leave the mark alone.
 */
int cache_mark(struct cache *c, const char *domain, unsigned from, unsigned to,
               int64_t now, struct cache_record *out);

/*
 * cache_remind - claim a reminder of a domain whose mark is "mark": when
 * its last reminder (or mark change) is at least "every" seconds before
 * now, reminded_at becomes now and the call returns 1.  0: not due, or the
 * mark is another; -1 with errno (ENOENT: no record).  out (may be NULL)
 * receives the record as it was before.
 */
int cache_remind(struct cache *c, const char *domain, unsigned mark,
                 int64_t now, int64_t every, struct cache_record *out);

/*
 * cache_flush - drop the verdict of one domain so that the next lookup
 * misses; first_seen_bad, counters and last_seen stay unless flags has
 * CACHE_FORGET.  Returns 1 if the domain had a record, 0 if not.
 */
int cache_flush(struct cache *c, const char *domain, unsigned flags);

/* cache_flush_all - cache_flush() every record; returns how many */
long cache_flush_all(struct cache *c, unsigned flags);

/*
 * cache_merge - fold saved history (snapshot.h) into the table: counters,
 * checks, last_seen and reminded_at take the maximum, first_seen_bad the
 * earlier non-zero time unless the table holds a good verdict; a mark is
 * taken when the table has none.  An absent domain
 * gets a history-only record.  Verdict fields of "history" are ignored.
 */
int cache_merge(struct cache *c, const struct cache_record *history);

/* Called for each record; return non-zero to stop. */
typedef int (*cache_visit_fn)(const struct cache_record *r, void *arg);

/*
 * cache_foreach - call fn with a consistent copy of every record, in
 * table order, without locking; records changed meanwhile may be seen
 * old or new, and a record written throughout is skipped.  Returns the
 * number visited.
 */
size_t cache_foreach(struct cache *c, cache_visit_fn fn, void *arg);

/*
 * cache_record_status - what cache_get() would report for a copied
 * record at now (MISS for history without a verdict)
 */
enum cache_status cache_record_status(const struct cache_record *r,
                                      int64_t now);

/* cache_stats - sizes and counters; entries is a sum over all buckets */
void cache_stats(struct cache *c, struct cache_stats *out);

/*
 * cache_metric_add - add n to metrics counter "index" (< CACHE_METRICS) in
 * this CPU's line; nothing on a read-only handle or for a bad index.
 */
void cache_metric_add(struct cache *c, unsigned index, uint64_t n);

/* cache_metrics - every metrics counter, summed over the CPU lines */
void cache_metrics(struct cache *c, uint64_t out[CACHE_METRICS]);

/*
 * cache_expiry - a TTL clamped to [min, max] (pure; the verdict layer
 * picks min and max per verdict class).  A negative TTL counts as 0.
 */
int64_t cache_expiry(int64_t ttl, int64_t min, int64_t max);

#endif
