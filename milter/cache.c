/*
 * cache - the shared-memory verdict table: segment, seqlocked records,
 * robust bucket locks, CLOCK eviction.
 *
 * Segment layout (all offsets fixed by CACHE_LAYOUT_VERSION):
 *	0	struct cache_header (one page)
 *	4096	CACHE_STRIPES per-CPU statistics lines
 *	8192	CACHE_STRIPES per-CPU lines of CACHE_METRICS caller's counters
 *	24576	nbuckets x struct cache_page: one bucket (its robust mutex,
 *		CACHE_WAYS 16-bit tags, CLOCK reference bits and hand) followed
 *		by its CACHE_WAYS slots; on x86-64 a page is exactly 2048
 *		bytes, so a lookup touches one TLB entry per bucket.
 * A slot is a seqlock word (sequence number in the low 32 bits, checksum
 * of the record in the high 32) and CACHE_SLOT_DATA 64-bit atomic words.
 * A record is its fixed fields, then the domain and the payload packed
 * together; most fit one slot.  One that does not (a long domain with a
 * long payload) takes a pair of ways, an even one and the next: its
 * words run on through the second slot, skipping that slot's seqlock
 * word, which the writer bumps as well so that a reader who found the
 * way earlier notices; the second way's tag is CACHE_TAG_PAIR.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "util.h"

#define CACHE_MAGIC 0x0045484341434752ULL /* "RGCACHE\0" little-endian */
#define CACHE_LAYOUT_VERSION 4
#define CACHE_STRIPES 64
#define CACHE_STRIPES_OFFSET 4096
#define CACHE_METRICS_OFFSET 8192
#define CACHE_PAGES_OFFSET 24576
#define CACHE_READ_TRIES 64
#define CACHE_SPIN_TRIES 8
#define CACHE_OPEN_TRIES 8

/* Data words of a slot (after its seqlock word), and bytes of a pair's
 * data area after the fixed fields (88 bytes). */
#define CACHE_SLOT_DATA 30
#define CACHE_SLOT_WORDS (1 + CACHE_SLOT_DATA)
#define CACHE_DATA_MAX (8 * 2 * CACHE_SLOT_DATA - 88)

/* Tags: a free way, the second way of a pair; keys use the others. */
#define CACHE_TAG_FREE 0
#define CACHE_TAG_PAIR 0xffff

/* Record flags; the high four bits hold the caller's mark. */
#define CACHE_F_VERDICT 0x1
#define CACHE_F_MARK_SHIFT 4

enum cache_stat {
	CACHE_STAT_HITS,
	CACHE_STAT_MISSES,
	CACHE_STAT_STALE,
	CACHE_STAT_EXPIRED,
	CACHE_STAT_INSERTS,
	CACHE_STAT_EVICTIONS,
	CACHE_STAT_REPAIRS,
	CACHE_STAT_UNREADABLE,
	CACHE_STAT_N,
};

struct cache_header {
	_Atomic uint64_t magic; /* stored last at creation */
	uint32_t version;
	uint32_t page_bytes;
	uint32_t slot_bytes;
	uint32_t ways;
	uint64_t nbuckets;
	uint64_t seed[2];
	int64_t created_at;
	_Atomic uint32_t retired;
};

struct cache_stripe {
	_Atomic uint64_t n[CACHE_STAT_N];
} __attribute__((aligned(64)));

struct cache_metric_stripe {
	_Atomic uint64_t n[CACHE_METRICS];
} __attribute__((aligned(64)));

/* The record as a reader copies it; never lives in the segment as such. */
struct cache_image {
	uint8_t domain_len;
	uint8_t payload_len;
	uint8_t state;
	uint8_t flags; /* CACHE_F_VERDICT; the mark above CACHE_F_MARK_SHIFT */
	uint32_t checks;
	uint32_t counters[CACHE_COUNTERS];
	int64_t checked_at;
	int64_t expires_at;
	int64_t stale_until;
	int64_t first_seen_bad;
	int64_t last_seen;
	int64_t refresh_until;
	int64_t reminded_at;
	uint8_t data[CACHE_DATA_MAX]; /* the domain, then the payload */
};

#define CACHE_WORDS (sizeof(struct cache_image) / 8)
#define CACHE_DATA_WORD (offsetof(struct cache_image, data) / 8)

union cache_words {
	struct cache_image im;
	uint64_t w[CACHE_WORDS];
};

struct cache_bucket {
	pthread_mutex_t lock; /* robust, process-shared; guards the bucket */
	_Atomic uint16_t tag[CACHE_WAYS]; /* 0: free way */
	_Atomic uint8_t ref;              /* CLOCK bits, set by readers */
	_Atomic uint8_t used;             /* written under lock */
	uint8_t hand;                     /* under lock */
} __attribute__((aligned(64)));

/* Slot w's seqlock word is word[w * CACHE_SLOT_WORDS]; its data follows. */
struct cache_page {
	struct cache_bucket b;
	_Atomic uint64_t word[CACHE_WAYS * CACHE_SLOT_WORDS];
};

_Static_assert(sizeof(struct cache_image) == 8 * 2 * CACHE_SLOT_DATA,
               "a pair holds the largest record");
_Static_assert(offsetof(struct cache_image, data) == 88, "fixed fields");
_Static_assert(DOMAIN_MAX + CACHE_PAYLOAD_MAX <= CACHE_DATA_MAX, "fits");
_Static_assert(sizeof(struct cache_page) == 2048, "a page is 2 KiB");
_Static_assert(CACHE_PAYLOAD_MAX <= UINT8_MAX, "payload_len is a byte");
_Static_assert(CACHE_WAYS == 8, "ref is a byte of bits");
_Static_assert(sizeof(struct cache_header) <= CACHE_STRIPES_OFFSET, "hdr");
_Static_assert(CACHE_STRIPES * sizeof(struct cache_stripe) <=
                   CACHE_METRICS_OFFSET - CACHE_STRIPES_OFFSET,
               "stripes");
_Static_assert(CACHE_STRIPES * sizeof(struct cache_metric_stripe) <=
                   CACHE_PAGES_OFFSET - CACHE_METRICS_OFFSET,
               "metric stripes");
_Static_assert(CACHE_MARK_MAX << CACHE_F_MARK_SHIFT <= UINT8_MAX, "mark");

struct cache {
	unsigned char *base;
	size_t size;
	struct cache_header *hdr;
	struct cache_stripe *stripes;
	struct cache_metric_stripe *metrics;
	struct cache_page *pages;
	size_t nbuckets;
	uint64_t seed[2];
	int readonly;
	enum cache_origin origin;
};

/* A domain and where it may live. */
struct cache_key {
	const char *name;
	size_t len;
	size_t b[2];
	uint16_t tag;
};

enum cache_load {
	CACHE_LOAD_OK,
	CACHE_LOAD_EMPTY,
	CACHE_LOAD_OTHER,   /* another domain */
	CACHE_LOAD_BUSY,    /* a writer held it through every retry */
	CACHE_LOAD_CORRUPT, /* stable but inconsistent */
};

/* What a write-path edit asks cache_modify() to do with the record. */
enum cache_edit {
	CACHE_EDIT_KEEP,
	CACHE_EDIT_WRITE,
	CACHE_EDIT_REMOVE,
};

typedef enum cache_edit (*cache_edit_fn)(union cache_words *u, int found,
                                         void *arg);

/* cache_rotl - rotate left */
static inline uint64_t
cache_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* cache_sipround - one SipHash round */
static inline void
cache_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = cache_rotl(v[1], 13) ^ v[0];
	v[0] = cache_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = cache_rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = cache_rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = cache_rotl(v[1], 17) ^ v[2];
	v[2] = cache_rotl(v[2], 32);
}

/*
 * cache_hash - SipHash-1-3 of the domain under the segment's random key,
 * so that nobody choosing sender domains can aim them at one bucket.
 */
static uint64_t
cache_hash(const uint64_t seed[2], const char *s, size_t len)
{
	uint64_t v[4] = {
	    seed[0] ^ 0x736f6d6570736575ULL, seed[1] ^ 0x646f72616e646f6dULL,
	    seed[0] ^ 0x6c7967656e657261ULL, seed[1] ^ 0x7465646279746573ULL};
	uint64_t m, last = (uint64_t) len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, s + i, 8);
		m = le64toh(m);
		v[3] ^= m;
		cache_sipround(v);
		v[0] ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t) (unsigned char) s[i + j] << (8 * j);
	v[3] ^= last;
	cache_sipround(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	cache_sipround(v);
	cache_sipround(v);
	cache_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* cache_key_init - validate a domain and find its buckets and tag */
static int
cache_key_init(const struct cache *c, const char *domain, struct cache_key *k)
{
	uint64_t h, lo, hi;

	k->name = domain;
	k->len = domain == NULL ? 0 : strnlen(domain, DOMAIN_SIZE);
	if (k->len == 0 || k->len > DOMAIN_MAX)
		return -1;
	h = cache_hash(c->seed, domain, k->len);
	lo = h & 0xffffffffU;
	hi = h >> 32;
	/* Multiply-shift maps the high bits of each half onto the range;
	 * the tag takes the low byte of each half, which that ignores. */
	k->b[0] = (size_t) ((lo * c->nbuckets) >> 32);
	k->b[1] = (size_t) ((hi * c->nbuckets) >> 32);
	if (k->b[1] == k->b[0])
		k->b[1] = (k->b[0] + 1) % c->nbuckets;
	k->tag = (uint16_t) ((lo & 0xff) | (hi & 0xff) << 8);
	if (k->tag == CACHE_TAG_FREE)
		k->tag = 1;
	else if (k->tag == CACHE_TAG_PAIR)
		k->tag = CACHE_TAG_PAIR - 1;
	return 0;
}

/* cache_mix1 - fold one word into one lane */
static inline uint64_t
cache_mix1(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

/*
 * cache_mix - fold words [from, from + n) into a running checksum of four
 * lanes: word i of the range goes to lane i % 4, so the multiplications of
 * neighbouring words do not wait for each other.
 */
static inline void
cache_mix(uint64_t h[4], const uint64_t *w, size_t from, size_t n)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		for (size_t l = 0; l < 4; l++)
			h[l] = cache_mix1(h[l], w[from + i + l]);
	for (size_t l = 0; i < n; i++, l++)
		h[l] = cache_mix1(h[l], w[from + i]);
}

/* cache_used_words - the words a record uses: fixed fields, then data */
static inline size_t
cache_used_words(const struct cache_image *im)
{
	return CACHE_DATA_WORD +
	       ((size_t) im->domain_len + im->payload_len + 7) / 8;
}

/* cache_is_pair - does a record of this image take a pair of ways? */
static inline int
cache_is_pair(const struct cache_image *im)
{
	return cache_used_words(im) > CACHE_SLOT_DATA;
}

/* cache_payload - where the payload starts: right after the domain */
static inline uint8_t *
cache_payload(struct cache_image *im)
{
	return im->data + im->domain_len;
}

/* cache_checksum - 32-bit check of the used words of a record */
static uint32_t
cache_checksum(const union cache_words *u)
{
	uint64_t h[4] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL,
	                 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};
	uint64_t x;

	cache_mix(h, u->w, 0, cache_used_words(&u->im));
	x = h[0] ^ cache_rotl(h[1], 16) ^ cache_rotl(h[2], 32) ^
	    cache_rotl(h[3], 48);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (uint32_t) (x ^ (x >> 32));
}

/* cache_seq - a way's seqlock word */
static inline _Atomic uint64_t *
cache_seq(const struct cache_page *p, unsigned way)
{
	return (_Atomic uint64_t *) &p->word[way * CACHE_SLOT_WORDS];
}

/* cache_word - word i of the record at way; a pair's skips a seqlock */
static inline _Atomic uint64_t *
cache_word(const struct cache_page *p, unsigned way, size_t i)
{
	return (_Atomic uint64_t *) &p
	    ->word[way * CACHE_SLOT_WORDS + 1 + i + (i >= CACHE_SLOT_DATA)];
}

/* cache_words_in - atomic loads of record words [from, from + n) */
static inline void
cache_words_in(const struct cache_page *p, unsigned way, union cache_words *u,
               size_t from, size_t n)
{
	for (size_t i = from; i < from + n; i++)
		u->w[i] = atomic_load_explicit(cache_word(p, way, i),
		                               memory_order_relaxed);
}

/* cache_words_out - atomic stores of record words [from, from + n) */
static inline void
cache_words_out(struct cache_page *p, unsigned way, const union cache_words *u,
                size_t from, size_t n)
{
	for (size_t i = from; i < from + n; i++)
		atomic_store_explicit(cache_word(p, way, i), u->w[i],
		                      memory_order_relaxed);
}

/* cache_tag - a way's tag */
static inline uint16_t
cache_tag(const struct cache_page *p, unsigned way)
{
	return atomic_load_explicit(&p->b.tag[way], memory_order_relaxed);
}

/* cache_set_tag - set a way's tag (bucket lock held) */
static inline void
cache_set_tag(struct cache_page *p, unsigned way, uint16_t tag)
{
	atomic_store_explicit(&p->b.tag[way], tag, memory_order_relaxed);
}

/* cache_tag_live - does a tag name a record's first way? */
static inline int
cache_tag_live(uint16_t tag)
{
	return tag != CACHE_TAG_FREE && tag != CACHE_TAG_PAIR;
}

/*
 * cache_slot_copy - copy the record at a way, stopping early when it is
 * not the wanted domain (k NULL: any).  Unsynchronized: the caller
 * validates the sequence number around it, or holds the bucket lock.
 */
static enum cache_load
cache_slot_copy(const struct cache_page *p, unsigned way,
                const struct cache_key *k, union cache_words *u)
{
	size_t dlen, n, dwords;

	cache_words_in(p, way, u, 0, CACHE_DATA_WORD);
	dlen = u->im.domain_len;
	if (dlen == 0)
		return CACHE_LOAD_EMPTY;
	n = cache_used_words(&u->im);
	if (dlen > DOMAIN_MAX || u->im.payload_len > CACHE_PAYLOAD_MAX ||
	    (n > CACHE_SLOT_DATA && (way % 2 != 0)))
		return CACHE_LOAD_CORRUPT;
	if (k != NULL && dlen != k->len)
		return CACHE_LOAD_OTHER;
	dwords = (dlen + 7) / 8;
	cache_words_in(p, way, u, CACHE_DATA_WORD, dwords);
	if (k != NULL && memcmp(u->im.data, k->name, dlen) != 0)
		return CACHE_LOAD_OTHER;
	cache_words_in(p, way, u, CACHE_DATA_WORD + dwords,
	               n - CACHE_DATA_WORD - dwords);
	return CACHE_LOAD_OK;
}

/* cache_backoff - wait a little for a writer to finish */
static inline void
cache_backoff(int attempt)
{
	if (attempt >= CACHE_SPIN_TRIES)
		sched_yield();
}

/*
 * cache_slot_read - the seqlock reader: a consistent copy of the record at
 * a way whose tag is k's (k NULL: a record's first way), or OTHER once the
 * tag has changed, or BUSY after a bounded number of attempts (a writer
 * that is slow, or dead with the sequence number odd), or CORRUPT when the
 * copy was stable but fails its checksum.  The tag is read after the
 * sequence number: a writer changes it before the sequence number it
 * releases, so a reader who finds a way taken into a pair learns so.
 */
static enum cache_load
cache_slot_read(const struct cache_page *p, unsigned way,
                const struct cache_key *k, union cache_words *u)
{
	_Atomic uint64_t *seq = cache_seq(p, way);

	for (int i = 0; i < CACHE_READ_TRIES; i++) {
		uint64_t w1, w2;
		uint16_t tag;
		enum cache_load r;

		w1 = atomic_load_explicit(seq, memory_order_acquire);
		if (w1 & 1) {
			cache_backoff(i);
			continue;
		}
		tag = cache_tag(p, way);
		if (k != NULL ? tag != k->tag : !cache_tag_live(tag))
			return CACHE_LOAD_OTHER;
		r = cache_slot_copy(p, way, k, u);
		atomic_thread_fence(memory_order_acquire);
		w2 = atomic_load_explicit(seq, memory_order_relaxed);
		if (w2 != w1) {
			cache_backoff(i);
			continue;
		}
		if (r == CACHE_LOAD_OK &&
		    (uint32_t) (w1 >> 32) != cache_checksum(u))
			return CACHE_LOAD_CORRUPT;
		return r;
	}
	return CACHE_LOAD_BUSY;
}

/* cache_seq_odd - start a write: the sequence number made odd */
static uint32_t
cache_seq_odd(_Atomic uint64_t *seq)
{
	uint64_t w = atomic_load_explicit(seq, memory_order_relaxed);
	uint32_t n = (uint32_t) w | 1;

	atomic_store_explicit(seq, (w & ~0xffffffffULL) | n,
	                      memory_order_relaxed);
	return n;
}

/* cache_seq_even - end a write: the next even number and a checksum */
static void
cache_seq_even(_Atomic uint64_t *seq, uint32_t odd, uint32_t sum)
{
	atomic_store_explicit(seq, (uint64_t) sum << 32 | (uint32_t) (odd + 1),
	                      memory_order_release);
}

/*
 * cache_slot_write - the seqlock writer (bucket lock held): odd sequence
 * (of both slots, for a pair), release fence, the used words, then even
 * sequence with the checksum, the second slot's first.  An odd sequence
 * left by a dead writer is simply continued.
 */
static void
cache_slot_write(struct cache_page *p, unsigned way, const union cache_words *u)
{
	int pair = cache_is_pair(&u->im);
	uint32_t seq = cache_seq_odd(cache_seq(p, way)), seq2 = 0;

	if (pair)
		seq2 = cache_seq_odd(cache_seq(p, way + 1));
	atomic_thread_fence(memory_order_release);
	cache_words_out(p, way, u, 0, cache_used_words(&u->im));
	if (pair)
		cache_seq_even(cache_seq(p, way + 1), seq2, 0);
	cache_seq_even(cache_seq(p, way), seq, cache_checksum(u));
}

/* cache_stripe_index - this CPU's line of per-CPU counters */
static inline unsigned
cache_stripe_index(void)
{
	int cpu = sched_getcpu();

	return (unsigned) (cpu < 0 ? 0 : cpu) % CACHE_STRIPES;
}

/* cache_stat - count an event in this CPU's statistics line */
static inline void
cache_stat(struct cache *c, enum cache_stat what)
{
	if (c->readonly)
		return;
	atomic_fetch_add_explicit(&c->stripes[cache_stripe_index()].n[what], 1,
	                          memory_order_relaxed);
}

/* cache_clear_way - empty one way (bucket lock held) */
static void
cache_clear_way(struct cache_page *p, unsigned way)
{
	union cache_words empty;

	memset(&empty, 0, sizeof(empty));
	cache_set_tag(p, way, CACHE_TAG_FREE);
	atomic_fetch_and_explicit(&p->b.ref, (uint8_t) ~(1U << way),
	                          memory_order_relaxed);
	cache_slot_write(p, way, &empty);
}

/* cache_way_valid - does a way hold a sound record that belongs here? */
static int
cache_way_valid(const struct cache *c, size_t bucket, unsigned way,
                union cache_words *u, struct cache_key *k)
{
	const struct cache_page *p = &c->pages[bucket];
	uint64_t w =
	    atomic_load_explicit(cache_seq(p, way), memory_order_relaxed);
	char name[DOMAIN_SIZE];

	if (w & 1)
		return 0;
	if (cache_slot_copy(p, way, NULL, u) != CACHE_LOAD_OK ||
	    (uint32_t) (w >> 32) != cache_checksum(u))
		return 0;
	if (cache_is_pair(&u->im) &&
	    (atomic_load_explicit(cache_seq(p, way + 1), memory_order_relaxed) &
	     1))
		return 0;
	memcpy(name, u->im.data, u->im.domain_len);
	name[u->im.domain_len] = '\0';
	if (memchr(name, '\0', u->im.domain_len) != NULL ||
	    cache_key_init(c, name, k) != 0)
		return 0;
	return k->b[0] == bucket || k->b[1] == bucket;
}

/*
 * cache_repair - rebuild a bucket whose lock owner died (lock held, the
 * mutex not yet consistent): keep every sound record and re-derive its
 * tags; empty every way whose record is torn (odd sequence), fails its
 * checksum or does not belong here; recount.
 */
static void
cache_repair(struct cache *c, size_t bucket)
{
	struct cache_page *p = &c->pages[bucket];
	union cache_words u;
	struct cache_key k;
	unsigned used = 0;

	for (unsigned way = 0; way < CACHE_WAYS; way++) {
		if (!cache_way_valid(c, bucket, way, &u, &k)) {
			cache_clear_way(p, way);
			continue;
		}
		cache_set_tag(p, way, k.tag);
		used++;
		if (cache_is_pair(&u.im)) {
			atomic_fetch_and_explicit(&p->b.ref,
			                          (uint8_t) ~(1U << (way + 1)),
			                          memory_order_relaxed);
			cache_set_tag(p, ++way, CACHE_TAG_PAIR);
		}
	}
	atomic_store_explicit(&p->b.used, (uint8_t) used, memory_order_relaxed);
	p->b.hand %= CACHE_WAYS;
}

/* cache_lock - lock a bucket, repairing it if the last owner died */
static int
cache_lock(struct cache *c, size_t bucket)
{
	pthread_mutex_t *m = &c->pages[bucket].b.lock;
	int rc = pthread_mutex_lock(m);

	if (rc == EOWNERDEAD) {
		cache_repair(c, bucket);
		rc = pthread_mutex_consistent(m);
		cache_stat(c, CACHE_STAT_REPAIRS);
		if (rc != 0)
			pthread_mutex_unlock(m);
	}
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

/* cache_unlock - unlock a bucket */
static void
cache_unlock(struct cache *c, size_t bucket)
{
	pthread_mutex_unlock(&c->pages[bucket].b.lock);
}

/* cache_lock_pair - lock both buckets of a key, lower index first */
static int
cache_lock_pair(struct cache *c, const struct cache_key *k)
{
	size_t lo = k->b[0] < k->b[1] ? k->b[0] : k->b[1];
	size_t hi = k->b[0] < k->b[1] ? k->b[1] : k->b[0];

	if (cache_lock(c, lo) != 0)
		return -1;
	if (cache_lock(c, hi) != 0) {
		cache_unlock(c, lo);
		return -1;
	}
	return 0;
}

/* cache_unlock_pair - unlock both buckets of a key */
static void
cache_unlock_pair(struct cache *c, const struct cache_key *k)
{
	cache_unlock(c, k->b[0]);
	cache_unlock(c, k->b[1]);
}

/*
 * cache_try_repair - a reader found a way busy through every retry: if a
 * dead writer left it so, repair the bucket now instead of waiting for the
 * next writer.  Never blocks.
 */
static void
cache_try_repair(struct cache *c, const struct cache_key *k)
{
	for (int i = 0; i < 2; i++) {
		pthread_mutex_t *m = &c->pages[k->b[i]].b.lock;
		int rc = pthread_mutex_trylock(m);

		if (rc == EOWNERDEAD) {
			cache_repair(c, k->b[i]);
			rc = pthread_mutex_consistent(m);
			cache_stat(c, CACHE_STAT_REPAIRS);
			pthread_mutex_unlock(m);
		} else if (rc == 0) {
			pthread_mutex_unlock(m);
		}
	}
}

/*
 * cache_lookup - find a key without locking.  Returns OK with the record
 * and its place, or the most telling failure (BUSY, CORRUPT, OTHER).
 */
static enum cache_load
cache_lookup(const struct cache *c, const struct cache_key *k,
             union cache_words *u, size_t *bucket, unsigned *way)
{
	enum cache_load worst = CACHE_LOAD_OTHER;

	__builtin_prefetch(&c->pages[k->b[1]].b);
	for (int i = 0; i < 2; i++) {
		const struct cache_page *p = &c->pages[k->b[i]];

		for (unsigned w = 0; w < CACHE_WAYS; w++) {
			enum cache_load r;

			if (cache_tag(p, w) != k->tag)
				continue;
			r = cache_slot_read(p, w, k, u);
			if (r == CACHE_LOAD_OK) {
				*bucket = k->b[i];
				*way = w;
				return r;
			}
			if (r == CACHE_LOAD_BUSY || r == CACHE_LOAD_CORRUPT)
				worst = r;
		}
	}
	return worst;
}

/* cache_record_fill - the public copy of a record */
static void
cache_record_fill(struct cache_record *out, const union cache_words *u)
{
	const struct cache_image *im = &u->im;

	memcpy(out->domain, im->data, im->domain_len);
	out->domain[im->domain_len] = '\0';
	out->has_verdict = (im->flags & CACHE_F_VERDICT) != 0;
	out->state = im->state;
	out->payload_len = im->payload_len;
	memcpy(out->payload, im->data + im->domain_len, im->payload_len);
	out->checked_at = im->checked_at;
	out->expires_at = im->expires_at;
	out->stale_until = im->stale_until;
	out->first_seen_bad = im->first_seen_bad;
	out->last_seen = im->last_seen;
	out->refresh_until = im->refresh_until;
	out->reminded_at = im->reminded_at;
	out->mark = im->flags >> CACHE_F_MARK_SHIFT;
	out->checks = im->checks;
	memcpy(out->counters, im->counters, sizeof(out->counters));
}

/* cache_classify - the status of a record at "now" */
static enum cache_status
cache_classify(const struct cache_image *im, int64_t now)
{
	if (!(im->flags & CACHE_F_VERDICT))
		return CACHE_MISS;
	if (now < im->expires_at)
		return CACHE_FRESH;
	if (now < im->stale_until)
		return CACHE_STALE;
	return CACHE_EXPIRED;
}

/* cache_image_new - an empty record of a key */
static void
cache_image_new(union cache_words *u, const struct cache_key *k)
{
	memset(u, 0, sizeof(*u));
	u->im.domain_len = (uint8_t) k->len;
	memcpy(u->im.data, k->name, k->len);
}

/*
 * cache_read - lock-free lookup; counted reads (cache_get) update the
 * statistics and the CLOCK reference bit, a peek does neither.
 */
static enum cache_status
cache_read(struct cache *c, const char *domain, int64_t now,
           struct cache_record *out, int counted)
{
	static const enum cache_stat stat[] = {
	    [CACHE_MISS] = CACHE_STAT_MISSES,
	    [CACHE_FRESH] = CACHE_STAT_HITS,
	    [CACHE_STALE] = CACHE_STAT_STALE,
	    [CACHE_EXPIRED] = CACHE_STAT_EXPIRED,
	};
	struct cache_key k;
	union cache_words u;
	enum cache_load r = CACHE_LOAD_OTHER;
	enum cache_status st;
	size_t bucket;
	unsigned way;

	if (cache_key_init(c, domain, &k) == 0)
		r = cache_lookup(c, &k, &u, &bucket, &way);
	if (r == CACHE_LOAD_BUSY && !c->readonly) {
		cache_try_repair(c, &k);
		r = cache_lookup(c, &k, &u, &bucket, &way);
	}
	if (r != CACHE_LOAD_OK) {
		if (r == CACHE_LOAD_BUSY || r == CACHE_LOAD_CORRUPT)
			cache_stat(c, CACHE_STAT_UNREADABLE);
		if (counted)
			cache_stat(c, CACHE_STAT_MISSES);
		if (out != NULL)
			out->domain[0] = '\0';
		return CACHE_MISS;
	}
	if (counted && !c->readonly) {
		struct cache_bucket *b = &c->pages[bucket].b;
		uint8_t bit = (uint8_t) (1U << way);

		if (!(atomic_load_explicit(&b->ref, memory_order_relaxed) &
		      bit))
			atomic_fetch_or_explicit(&b->ref, bit,
			                         memory_order_relaxed);
	}
	st = cache_classify(&u.im, now);
	if (counted)
		cache_stat(c, stat[st]);
	if (out != NULL)
		cache_record_fill(out, &u);
	return st;
}

/* cache_get - a counted lookup; see cache.h */
enum cache_status
cache_get(struct cache *c, const char *domain, int64_t now,
          struct cache_record *out)
{
	return cache_read(c, domain, now, out, 1);
}

/* cache_peek - an uncounted lookup; see cache.h */
enum cache_status
cache_peek(struct cache *c, const char *domain, int64_t now,
           struct cache_record *out)
{
	return cache_read(c, domain, now, out, 0);
}

/*
 * cache_find_locked - find a key in its buckets (both locked).  A record
 * of the key that fails its checksum is found, but starts over empty.
 */
static int
cache_find_locked(const struct cache *c, const struct cache_key *k,
                  union cache_words *u, size_t *bucket, unsigned *way)
{
	for (int i = 0; i < 2; i++) {
		const struct cache_page *p = &c->pages[k->b[i]];

		for (unsigned w = 0; w < CACHE_WAYS; w++) {
			if (cache_tag(p, w) != k->tag ||
			    cache_slot_copy(p, w, k, u) != CACHE_LOAD_OK)
				continue;
			if ((uint32_t) (atomic_load_explicit(
			                    cache_seq(p, w),
			                    memory_order_relaxed) >>
			                32) != cache_checksum(u))
				cache_image_new(u, k);
			*bucket = k->b[i];
			*way = w;
			return 1;
		}
	}
	return 0;
}

/* cache_ways - the ways a record of this image takes: 1 or 2 */
static inline unsigned
cache_ways(const union cache_words *u)
{
	return cache_is_pair(&u->im) ? 2 : 1;
}

/* cache_is_head_of_pair - is the record at way the first of a pair? */
static inline int
cache_is_head_of_pair(const struct cache_page *p, unsigned way)
{
	return way % 2 == 0 && cache_tag(p, way + 1) == CACHE_TAG_PAIR;
}

/* cache_free_ways - the first free run of n ways (aligned for 2), or -1 */
static int
cache_free_ways(const struct cache_page *p, unsigned n)
{
	for (unsigned w = 0; w < CACHE_WAYS; w += n)
		if (cache_tag(p, w) == CACHE_TAG_FREE &&
		    (n == 1 || cache_tag(p, w + 1) == CACHE_TAG_FREE))
			return (int) w;
	return -1;
}

/*
 * cache_clock - advance a bucket's CLOCK hand over at most one turn,
 * clearing reference bits, to the first run of n ways (aligned for 2)
 * whose records were not referenced since the hand last passed; -1 if
 * every run was referenced (all bits now clear).  Readers mark the first
 * way of a pair, so its second way alone is never a victim.
 */
static int
cache_clock(struct cache_page *p, unsigned n)
{
	struct cache_bucket *b = &p->b;

	for (unsigned i = 0; i < CACHE_WAYS; i += n) {
		unsigned w = b->hand & ~(n - 1);
		uint8_t bits = (uint8_t) (((1U << n) - 1) << w);

		b->hand = (uint8_t) ((w + n) % CACHE_WAYS);
		if (n == 1 && cache_tag(p, w) == CACHE_TAG_PAIR)
			continue;
		if (!(atomic_fetch_and_explicit(&b->ref, (uint8_t) ~bits,
		                                memory_order_relaxed) &
		      bits))
			return (int) w;
	}
	return -1;
}

/*
 * cache_vacate - empty the record that covers a way, if any (locked): both
 * ways of a pair.  Returns 1 if there was one.
 */
static int
cache_vacate(struct cache *c, size_t bucket, unsigned way)
{
	struct cache_page *p = &c->pages[bucket];
	uint16_t tag = cache_tag(p, way);
	int pair;

	if (tag == CACHE_TAG_FREE)
		return 0;
	if (tag == CACHE_TAG_PAIR)
		way &= ~1U; /* the pair's first way (odd, but for damage) */
	pair = cache_is_head_of_pair(p, way);
	cache_clear_way(p, way);
	if (pair)
		cache_clear_way(p, way + 1);
	atomic_store_explicit(
	    &p->b.used,
	    atomic_load_explicit(&p->b.used, memory_order_relaxed) - 1,
	    memory_order_relaxed);
	return 1;
}

/*
 * cache_place - choose and empty n ways (1, or an aligned 2) for a new
 * record (both buckets locked): free ways in the emptier bucket, else
 * around CLOCK's victim in the first bucket, else in the second, else
 * (everything referenced) around the first bucket's hand.  What stood
 * there is evicted and counted.
 */
static void
cache_place(struct cache *c, const struct cache_key *k, unsigned n,
            size_t *bucket, unsigned *way)
{
	struct cache_page *p0 = &c->pages[k->b[0]];
	struct cache_page *p1 = &c->pages[k->b[1]];
	int first = atomic_load_explicit(&p1->b.used, memory_order_relaxed) <
	            atomic_load_explicit(&p0->b.used, memory_order_relaxed);
	int w = -1, evicted = 0;

	for (int i = 0; i < 2 && w < 0; i++) {
		*bucket = k->b[first ^ i];
		w = cache_free_ways(first ^ i ? p1 : p0, n);
	}
	for (int i = 0; i < 2 && w < 0; i++) {
		*bucket = k->b[i];
		w = cache_clock(i ? p1 : p0, n);
	}
	if (w < 0) {
		*bucket = k->b[0];
		w = p0->b.hand;
		p0->b.hand = (uint8_t) ((w + 1) % CACHE_WAYS);
	}
	*way = (unsigned) w & ~(n - 1);
	for (unsigned i = 0; i < n; i++)
		evicted += cache_vacate(c, *bucket, *way + i);
	while (evicted-- > 0)
		cache_stat(c, CACHE_STAT_EVICTIONS);
}

/* cache_install - write a new record into emptied ways (locked) */
static void
cache_install(struct cache *c, const struct cache_key *k, size_t bucket,
              unsigned way, const union cache_words *u)
{
	struct cache_page *p = &c->pages[bucket];

	atomic_store_explicit(
	    &p->b.used,
	    atomic_load_explicit(&p->b.used, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	atomic_fetch_and_explicit(
	    &p->b.ref, (uint8_t) ~(((1U << cache_ways(u)) - 1) << way),
	    memory_order_relaxed);
	if (cache_is_pair(&u->im))
		cache_set_tag(p, way + 1, CACHE_TAG_PAIR);
	cache_slot_write(p, way, u);
	cache_set_tag(p, way, k->tag);
}

/*
 * cache_rewrite - write a changed record back where it is (locked): in
 * place when it takes as many ways as before; a pair that shrank gives
 * its second way back; a record that grew takes the next way if it is
 * free.  Returns -1, changing nothing, when it must move.
 */
static int
cache_rewrite(struct cache *c, size_t bucket, unsigned way,
              const union cache_words *u)
{
	struct cache_page *p = &c->pages[bucket];
	unsigned had = cache_is_head_of_pair(p, way) ? 2 : 1;
	unsigned need = cache_ways(u);

	if (need > had) {
		if (way % 2 != 0 || cache_tag(p, way + 1) != CACHE_TAG_FREE)
			return -1;
		atomic_fetch_and_explicit(&p->b.ref, (uint8_t) ~(2U << way),
		                          memory_order_relaxed);
		cache_set_tag(p, way + 1, CACHE_TAG_PAIR);
	}
	cache_slot_write(p, way, u);
	if (need < had)
		cache_clear_way(p, way + 1);
	return 0;
}

/*
 * cache_modify - the one write path: lock the key's buckets, find its
 * record (or start an empty one when create), let edit change it, then
 * write, remove or leave it.  A record that grew out of its way and
 * cannot take the next one moves: readers miss it while it does.
 * Returns 1 if the record existed, 0 if not, -1 on error with errno.
 */
static int
cache_modify(struct cache *c, const char *domain, int create,
             cache_edit_fn edit, void *arg)
{
	struct cache_key k;
	union cache_words u;
	size_t bucket;
	unsigned way;
	int found, moved = 0;
	enum cache_edit act;

	if (c->readonly)
		return errno = EROFS, -1;
	if (cache_key_init(c, domain, &k) != 0)
		return errno = EINVAL, -1;
	if (cache_lock_pair(c, &k) != 0)
		return -1;
	found = cache_find_locked(c, &k, &u, &bucket, &way);
	if (!found && !create) {
		cache_unlock_pair(c, &k);
		return 0;
	}
	if (!found)
		cache_image_new(&u, &k);
	act = edit(&u, found, arg);
	if (act == CACHE_EDIT_WRITE && found &&
	    cache_rewrite(c, bucket, way, &u) != 0) {
		cache_vacate(c, bucket, way);
		moved = 1;
	}
	if (act == CACHE_EDIT_WRITE && (!found || moved)) {
		cache_place(c, &k, cache_ways(&u), &bucket, &way);
		cache_install(c, &k, bucket, way, &u);
		if (!found)
			cache_stat(c, CACHE_STAT_INSERTS);
	} else if (act == CACHE_EDIT_REMOVE && found) {
		cache_vacate(c, bucket, way);
	}
	cache_unlock_pair(c, &k);
	return found;
}

/* Arguments of cache_put()'s edit. */
struct cache_put_arg {
	const struct cache_verdict *v;
	int64_t now;
	struct cache_record *out; /* may be NULL */
};

/* cache_put_edit - a new verdict over whatever history the record has */
static enum cache_edit
cache_put_edit(union cache_words *u, int found, void *arg)
{
	const struct cache_put_arg *a = arg;
	struct cache_image *im = &u->im;

	(void) found;
	im->flags |= CACHE_F_VERDICT;
	im->state = (uint8_t) a->v->state;
	im->payload_len = (uint8_t) a->v->len;
	memset(cache_payload(im), 0, CACHE_DATA_MAX - im->domain_len);
	if (a->v->len > 0)
		memcpy(cache_payload(im), a->v->payload, a->v->len);
	im->checked_at = a->now;
	im->expires_at = a->now + a->v->ttl;
	im->stale_until = im->expires_at + a->v->max_stale;
	im->refresh_until = 0;
	if (im->checks < UINT32_MAX)
		im->checks++;
	if (a->v->grade == CACHE_GOOD)
		im->first_seen_bad = 0;
	else if (a->v->grade == CACHE_BAD && im->first_seen_bad == 0)
		im->first_seen_bad = a->now;
	if (a->out != NULL)
		cache_record_fill(a->out, u);
	return CACHE_EDIT_WRITE;
}

/* cache_put - store a verdict; see cache.h */
int
cache_put(struct cache *c, const char *domain, const struct cache_verdict *v,
          int64_t now, struct cache_record *out)
{
	struct cache_put_arg a = {v, now, out};

	if (v->len > CACHE_PAYLOAD_MAX || (v->len > 0 && v->payload == NULL) ||
	    v->state > UINT8_MAX || v->ttl < 0 || v->max_stale < 0)
		return errno = EINVAL, -1;
	return cache_modify(c, domain, 1, cache_put_edit, &a) < 0 ? -1 : 0;
}

/* Arguments of cache_count()'s edit. */
struct cache_count_arg {
	unsigned action;
	int64_t now;
};

/* cache_count_edit - one more message */
static enum cache_edit
cache_count_edit(union cache_words *u, int found, void *arg)
{
	const struct cache_count_arg *a = arg;
	uint32_t *n = &u->im.counters[a->action];

	(void) found;
	if (*n < UINT32_MAX)
		(*n)++;
	if (a->now > u->im.last_seen)
		u->im.last_seen = a->now;
	return CACHE_EDIT_WRITE;
}

/* cache_count - count a message; see cache.h */
int
cache_count(struct cache *c, const char *domain, unsigned action, int64_t now)
{
	struct cache_count_arg a = {action, now};

	if (action >= CACHE_COUNTERS)
		return errno = EINVAL, -1;
	return cache_modify(c, domain, 1, cache_count_edit, &a) < 0 ? -1 : 0;
}

/* Arguments and result of cache_claim()'s edit. */
struct cache_claim_arg {
	int64_t now;
	int64_t hold;
	int result; /* 1 won, 0 held by someone, -1 no verdict */
};

/* cache_claim_edit - take the refresh claim unless a live one exists */
static enum cache_edit
cache_claim_edit(union cache_words *u, int found, void *arg)
{
	struct cache_claim_arg *a = arg;

	(void) found;
	if (!(u->im.flags & CACHE_F_VERDICT))
		return CACHE_EDIT_KEEP;
	a->result = 0;
	if (u->im.refresh_until > a->now)
		return CACHE_EDIT_KEEP;
	u->im.refresh_until = a->now + a->hold;
	a->result = 1;
	return CACHE_EDIT_WRITE;
}

/* cache_claim - claim a refresh; see cache.h */
int
cache_claim(struct cache *c, const char *domain, int64_t now, int64_t hold)
{
	struct cache_claim_arg a = {now, hold < 1 ? 1 : hold, -1};

	if (cache_modify(c, domain, 0, cache_claim_edit, &a) < 0)
		return -1;
	if (a.result < 0)
		errno = ENOENT;
	return a.result;
}

/* Arguments and result of cache_mark()'s and cache_remind()'s edit. */
struct cache_mark_arg {
	unsigned from, to; /* the same for a reminder */
	int64_t now;
	int64_t every; /* a reminder: seconds since the last one */
	struct cache_record *out;
	int result; /* 1 changed, 0 not, -1 no record */
};

/* cache_mark_edit - compare the mark; set it, or claim the reminder */
static enum cache_edit
cache_mark_edit(union cache_words *u, int found, void *arg)
{
	struct cache_mark_arg *a = arg;
	struct cache_image *im = &u->im;

	(void) found;
	if (a->out != NULL)
		cache_record_fill(a->out, u);
	a->result = 0;
	if ((unsigned) (im->flags >> CACHE_F_MARK_SHIFT) != a->from ||
	    (a->from == a->to && a->now - im->reminded_at < a->every))
		return CACHE_EDIT_KEEP;
	im->flags = (uint8_t) ((im->flags & ((1U << CACHE_F_MARK_SHIFT) - 1)) |
	                       a->to << CACHE_F_MARK_SHIFT);
	im->reminded_at = a->now;
	a->result = 1;
	return CACHE_EDIT_WRITE;
}

/* cache_mark_run - the common part of cache_mark() and cache_remind() */
static int
cache_mark_run(struct cache *c, const char *domain, struct cache_mark_arg *a)
{
	a->result = -1;
	if (cache_modify(c, domain, 0, cache_mark_edit, a) < 0)
		return -1;
	if (a->result < 0)
		errno = ENOENT;
	return a->result;
}

/* cache_mark - compare and set the mark; see cache.h */
int
cache_mark(struct cache *c, const char *domain, unsigned from, unsigned to,
           int64_t now, struct cache_record *out)
{
	struct cache_mark_arg a = {from, to, now, 0, out, -1};

	if (from == to || from > CACHE_MARK_MAX || to > CACHE_MARK_MAX)
		return errno = EINVAL, -1;
	return cache_mark_run(c, domain, &a);
}

/* cache_remind - claim a due reminder; see cache.h */
int
cache_remind(struct cache *c, const char *domain, unsigned mark, int64_t now,
             int64_t every, struct cache_record *out)
{
	struct cache_mark_arg a = {mark, mark, now, every, out, -1};

	if (mark > CACHE_MARK_MAX)
		return errno = EINVAL, -1;
	return cache_mark_run(c, domain, &a);
}

/* cache_flush_edit - drop the verdict, or everything */
static enum cache_edit
cache_flush_edit(union cache_words *u, int found, void *arg)
{
	const unsigned *flags = arg;

	(void) found;
	if (*flags & CACHE_FORGET)
		return CACHE_EDIT_REMOVE;
	u->im.flags &= (uint8_t) ~CACHE_F_VERDICT;
	u->im.payload_len = 0;
	u->im.expires_at = 0;
	u->im.stale_until = 0;
	u->im.refresh_until = 0;
	return CACHE_EDIT_WRITE;
}

/* cache_flush - flush one domain; see cache.h */
int
cache_flush(struct cache *c, const char *domain, unsigned flags)
{
	return cache_modify(c, domain, 0, cache_flush_edit, &flags);
}

/* cache_flush_bucket - flush every record of one bucket (locked) */
static long
cache_flush_bucket(struct cache *c, size_t bucket, unsigned flags)
{
	struct cache_page *p = &c->pages[bucket];
	union cache_words u;
	long n = 0;

	for (unsigned w = 0; w < CACHE_WAYS; w++) {
		if (!cache_tag_live(cache_tag(p, w)) ||
		    cache_slot_copy(p, w, NULL, &u) != CACHE_LOAD_OK)
			continue;
		/* Flushed, a record never grows, so it stays where it is. */
		if (cache_flush_edit(&u, 1, &flags) == CACHE_EDIT_REMOVE ||
		    cache_rewrite(c, bucket, w, &u) != 0)
			cache_vacate(c, bucket, w);
		n++;
	}
	return n;
}

/* cache_flush_all - flush every domain; see cache.h */
long
cache_flush_all(struct cache *c, unsigned flags)
{
	long n = 0;

	if (c->readonly)
		return errno = EROFS, -1;
	for (size_t b = 0; b < c->nbuckets; b++) {
		if (cache_lock(c, b) != 0)
			return -1;
		n += cache_flush_bucket(c, b, flags);
		cache_unlock(c, b);
	}
	return n;
}

/* cache_earliest - the earlier of two times, 0 meaning "never" */
static int64_t
cache_earliest(int64_t a, int64_t b)
{
	if (a == 0 || b == 0)
		return a == 0 ? b : a;
	return a < b ? a : b;
}

/* cache_merge_edit - fold saved history into a record */
static enum cache_edit
cache_merge_edit(union cache_words *u, int found, void *arg)
{
	const struct cache_record *h = arg;
	struct cache_image *im = &u->im;
	int verdict = (im->flags & CACHE_F_VERDICT) != 0;

	for (int i = 0; i < CACHE_COUNTERS; i++)
		if (h->counters[i] > im->counters[i])
			im->counters[i] = h->counters[i];
	if (h->checks > im->checks)
		im->checks = h->checks;
	if (h->last_seen > im->last_seen)
		im->last_seen = h->last_seen;
	if (h->reminded_at > im->reminded_at)
		im->reminded_at = h->reminded_at;
	if (im->flags >> CACHE_F_MARK_SHIFT == 0)
		im->flags |= (uint8_t) (h->mark << CACHE_F_MARK_SHIFT);
	/* A verdict in the table is newer than the snapshot: a good one
	 * (first_seen_bad 0) stands; a bad one keeps the earlier start. */
	if (!verdict || im->first_seen_bad != 0)
		im->first_seen_bad =
		    cache_earliest(im->first_seen_bad, h->first_seen_bad);
	if (!found || !verdict)
		im->state = (uint8_t) h->state;
	return CACHE_EDIT_WRITE;
}

/* cache_merge - fold saved history in; see cache.h */
int
cache_merge(struct cache *c, const struct cache_record *history)
{
	if (history->state > UINT8_MAX || history->mark > CACHE_MARK_MAX)
		return errno = EINVAL, -1;
	return cache_modify(c, history->domain, 1, cache_merge_edit,
	                    (void *) history) < 0
	           ? -1
	           : 0;
}

/* cache_foreach - visit consistent copies; see cache.h */
size_t
cache_foreach(struct cache *c, cache_visit_fn fn, void *arg)
{
	struct cache_record *r = xmalloc(sizeof(*r));
	union cache_words u;
	size_t n = 0;

	for (size_t b = 0; b < c->nbuckets; b++) {
		const struct cache_page *p = &c->pages[b];

		for (unsigned w = 0; w < CACHE_WAYS; w++) {
			if (!cache_tag_live(cache_tag(p, w)) ||
			    cache_slot_read(p, w, NULL, &u) != CACHE_LOAD_OK)
				continue;
			cache_record_fill(r, &u);
			n++;
			if (fn(r, arg) != 0)
				goto done;
		}
	}
done:
	free(r);
	return n;
}

/* cache_record_status - the status of a copy; see cache.h */
enum cache_status
cache_record_status(const struct cache_record *r, int64_t now)
{
	if (!r->has_verdict)
		return CACHE_MISS;
	return now < r->expires_at    ? CACHE_FRESH
	       : now < r->stale_until ? CACHE_STALE
	                              : CACHE_EXPIRED;
}

/* cache_stats - sizes and summed counters; see cache.h */
void
cache_stats(struct cache *c, struct cache_stats *out)
{
	uint64_t sum[CACHE_STAT_N] = {0};

	memset(out, 0, sizeof(*out));
	for (int s = 0; s < CACHE_STRIPES; s++)
		for (int i = 0; i < CACHE_STAT_N; i++)
			sum[i] += atomic_load_explicit(&c->stripes[s].n[i],
			                               memory_order_relaxed);
	for (size_t b = 0; b < c->nbuckets; b++) {
		out->entries += atomic_load_explicit(&c->pages[b].b.used,
		                                     memory_order_relaxed);
		for (unsigned w = 1; w < CACHE_WAYS; w += 2)
			out->doubles +=
			    cache_tag(&c->pages[b], w) == CACHE_TAG_PAIR;
	}
	out->capacity = c->nbuckets * CACHE_WAYS;
	out->segment_bytes = c->size;
	out->entry_bytes = c->size / out->capacity;
	out->created_at = c->hdr->created_at;
	out->hits = sum[CACHE_STAT_HITS];
	out->misses = sum[CACHE_STAT_MISSES];
	out->stale = sum[CACHE_STAT_STALE];
	out->expired = sum[CACHE_STAT_EXPIRED];
	out->inserts = sum[CACHE_STAT_INSERTS];
	out->evictions = sum[CACHE_STAT_EVICTIONS];
	out->repairs = sum[CACHE_STAT_REPAIRS];
	out->unreadable = sum[CACHE_STAT_UNREADABLE];
}

/* cache_metric_add - count into this CPU's metrics line; see cache.h */
void
cache_metric_add(struct cache *c, unsigned index, uint64_t n)
{
	if (c->readonly || index >= CACHE_METRICS)
		return;
	atomic_fetch_add_explicit(&c->metrics[cache_stripe_index()].n[index], n,
	                          memory_order_relaxed);
}

/* cache_metrics - the metrics counters summed; see cache.h */
void
cache_metrics(struct cache *c, uint64_t out[CACHE_METRICS])
{
	memset(out, 0, CACHE_METRICS * sizeof(out[0]));
	for (int s = 0; s < CACHE_STRIPES; s++)
		for (int i = 0; i < CACHE_METRICS; i++)
			out[i] += atomic_load_explicit(&c->metrics[s].n[i],
			                               memory_order_relaxed);
}

/* cache_expiry - clamp a TTL; see cache.h */
int64_t
cache_expiry(int64_t ttl, int64_t min, int64_t max)
{
	if (ttl < 0)
		ttl = 0;
	if (ttl < min)
		ttl = min;
	if (ttl > max)
		ttl = max;
	return ttl;
}

/* cache_segment_bytes - the size of a segment of nbuckets buckets */
static size_t
cache_segment_bytes(size_t nbuckets)
{
	return CACHE_PAGES_OFFSET + nbuckets * sizeof(struct cache_page);
}

/* cache_name_check - a portable POSIX shm name: "/name", no other slash */
static int
cache_name_check(const char *name, char *why, size_t whylen)
{
	size_t len = name == NULL ? 0 : strlen(name);

	if (len < 2 || name[0] != '/' || strchr(name + 1, '/') != NULL ||
	    len > NAME_MAX)
		return util_why(why, whylen,
		                "cache segment name \"%s\" is not /NAME",
		                name == NULL ? "" : name);
	return 0;
}

/* cache_map - map a segment and fill the handle's pointers */
static int
cache_map(struct cache *c, int fd, size_t size, char *why, size_t whylen)
{
	int prot = c->readonly ? PROT_READ : PROT_READ | PROT_WRITE;
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return util_why(why, whylen, "mmap %zu bytes: %s", size,
		                strerror(errno));
	/* Huge pages for the table if the administrator allows them for
	 * shared memory (shmem_enabled=advise); ignored otherwise. */
	madvise(p, size, MADV_HUGEPAGE);
	c->base = p;
	c->size = size;
	c->hdr = p;
	c->stripes = (struct cache_stripe *) (c->base + CACHE_STRIPES_OFFSET);
	c->metrics =
	    (struct cache_metric_stripe *) (c->base + CACHE_METRICS_OFFSET);
	c->pages = (struct cache_page *) (c->base + CACHE_PAGES_OFFSET);
	return 0;
}

/* cache_unmap - undo cache_map() */
static void
cache_unmap(struct cache *c)
{
	if (c->base != NULL)
		munmap(c->base, c->size);
	c->base = NULL;
}

/* cache_init_locks - robust, process-shared mutexes for every bucket */
static int
cache_init_locks(struct cache *c, char *why, size_t whylen)
{
	pthread_mutexattr_t attr;
	int rc = pthread_mutexattr_init(&attr);

	if (rc == 0)
		rc =
		    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	for (size_t b = 0; rc == 0 && b < c->nbuckets; b++)
		rc = pthread_mutex_init(&c->pages[b].b.lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc != 0)
		return util_why(why, whylen, "robust mutex: %s", strerror(rc));
	return 0;
}

/* cache_seed - a random hash key; the time and pid if getrandom fails */
static void
cache_seed(uint64_t seed[2])
{
	if (getrandom(seed, 2 * sizeof(uint64_t), 0) !=
	    (ssize_t) (2 * sizeof(uint64_t))) {
		seed[0] =
		    (uint64_t) util_monotonic_ms() * 0x9e3779b97f4a7c15ULL;
		seed[1] = (uint64_t) getpid() ^ (uint64_t) util_realtime_s();
	}
}

/*
 * cache_create - size and initialize an empty segment (flock held).  The
 * magic is stored last, so a segment whose creator died is recognizably
 * incompatible.
 */
static int
cache_create(struct cache *c, int fd, mode_t mode, gid_t gid, char *why,
             size_t whylen)
{
	size_t size = cache_segment_bytes(c->nbuckets);
	struct cache_header *h;
	int rc;

	if (fchmod(fd, mode) != 0 ||
	    (gid != (gid_t) -1 && fchown(fd, (uid_t) -1, gid) != 0))
		return util_why(why, whylen, "mode or group: %s",
		                strerror(errno));
	/* Reserve the memory now: a sparse segment would raise SIGBUS on
	 * first touch when /dev/shm is full. */
	if ((rc = posix_fallocate(fd, 0, (off_t) size)) != 0)
		return util_why(why, whylen, "allocate %zu MiB: %s", size >> 20,
		                strerror(rc));
	if (cache_map(c, fd, size, why, whylen) != 0)
		return -1;
	h = c->hdr;
	h->version = CACHE_LAYOUT_VERSION;
	h->page_bytes = sizeof(struct cache_page);
	h->slot_bytes = CACHE_SLOT_WORDS * 8;
	h->ways = CACHE_WAYS;
	h->nbuckets = c->nbuckets;
	cache_seed(h->seed);
	memcpy(c->seed, h->seed, sizeof(c->seed));
	h->created_at = util_realtime_s();
	if (cache_init_locks(c, why, whylen) != 0)
		return -1;
	atomic_store_explicit(&h->magic, CACHE_MAGIC, memory_order_release);
	return 0;
}

/*
 * cache_incompatible - why an existing segment cannot be used as is
 * (wanted 0: any capacity), or NULL.  Writes the reason into buf.
 */
static const char *
cache_incompatible(const struct cache_header *h, size_t size, size_t wanted,
                   char *buf, size_t buflen)
{
	if (size < CACHE_PAGES_OFFSET)
		snprintf(buf, buflen, "segment of %zu bytes is too small",
		         size);
	else if (atomic_load_explicit(&h->magic, memory_order_acquire) !=
	         CACHE_MAGIC)
		snprintf(buf, buflen, "no relaygate cache header");
	else if (h->version != CACHE_LAYOUT_VERSION)
		snprintf(buf, buflen, "layout version %u, expected %u",
		         h->version, (unsigned) CACHE_LAYOUT_VERSION);
	else if (h->page_bytes != sizeof(struct cache_page) ||
	         h->slot_bytes != CACHE_SLOT_WORDS * 8 || h->ways != CACHE_WAYS)
		snprintf(buf, buflen, "record size %u, expected %u",
		         h->slot_bytes, (unsigned) (CACHE_SLOT_WORDS * 8));
	else if (h->nbuckets < 2 || cache_segment_bytes(h->nbuckets) != size)
		snprintf(buf, buflen,
		         "segment size %zu does not match its header", size);
	else if (wanted != 0 && h->nbuckets != wanted)
		snprintf(buf, buflen, "capacity %zu, configured %zu",
		         (size_t) h->nbuckets * CACHE_WAYS,
		         wanted * CACHE_WAYS);
	else if (atomic_load_explicit(&h->retired, memory_order_relaxed))
		snprintf(buf, buflen, "segment was retired");
	else
		return NULL;
	return buf;
}

/* cache_adopt_mode - apply mode and group to a segment this user owns */
static int
cache_adopt_mode(int fd, const struct stat *st, mode_t mode, gid_t gid,
                 char *why, size_t whylen)
{
	if (st->st_uid != geteuid())
		return 0;
	if ((st->st_mode & 07777) != mode && fchmod(fd, mode) != 0)
		return util_why(why, whylen, "chmod: %s", strerror(errno));
	if (gid != (gid_t) -1 && st->st_gid != gid &&
	    fchown(fd, (uid_t) -1, gid) != 0)
		return util_why(why, whylen, "chgrp: %s", strerror(errno));
	return 0;
}

/* Arguments and outcome of cache_open()'s attempts. */
struct cache_open_arg {
	const char *name;
	mode_t mode;
	gid_t gid;
	unsigned flags;
	int created;      /* this process initialized the segment */
	char reason[128]; /* why this process retired the old one */
};

/*
 * cache_attach - use an existing segment (flock held).  Returns 0, -1
 * with why, or 1 when it was incompatible and has been retired and
 * unlinked (try again).
 */
static int
cache_attach(struct cache *c, int fd, const struct stat *st,
             struct cache_open_arg *a, char *why, size_t whylen)
{
	size_t wanted = a->flags ? 0 : c->nbuckets;
	char buf[128];
	const char *bad;

	if (cache_map(c, fd, (size_t) st->st_size, why, whylen) != 0)
		return -1;
	bad = cache_incompatible(c->hdr, c->size, wanted, buf, sizeof(buf));
	if (bad == NULL) {
		c->nbuckets = c->hdr->nbuckets;
		memcpy(c->seed, c->hdr->seed, sizeof(c->seed));
		return a->flags ? 0
		                : cache_adopt_mode(fd, st, a->mode, a->gid, why,
		                                   whylen);
	}
	if (a->flags)
		return util_why(why, whylen, "cache segment %s: %s", a->name,
		                bad);
	if (c->size >= sizeof(struct cache_header))
		atomic_store_explicit(&c->hdr->retired, 1,
		                      memory_order_relaxed);
	if (shm_unlink(a->name) != 0 && errno != ENOENT)
		return util_why(why, whylen, "unlink %s: %s", a->name,
		                strerror(errno));
	util_strlcpy(a->reason, bad, sizeof(a->reason));
	cache_unmap(c);
	return 1;
}

/* cache_open_fd - shm_open for the handle's mode, and lock the segment */
static int
cache_open_fd(const struct cache_open_arg *a, char *why, size_t whylen)
{
	int oflag = a->flags & CACHE_READONLY ? O_RDONLY
	            : a->flags & CACHE_ATTACH ? O_RDWR
	                                      : O_RDWR | O_CREAT;
	int fd = shm_open(a->name, oflag | O_CLOEXEC, a->mode);

	if (fd < 0)
		return util_why(why, whylen, "cache segment %s: %s%s", a->name,
		                strerror(errno),
		                errno == ENOENT ? " (is relaygate running?)"
		                                : "");
	while (flock(fd, a->flags & CACHE_READONLY ? LOCK_SH : LOCK_EX) != 0) {
		if (errno != EINTR) {
			util_why(why, whylen, "flock %s: %s", a->name,
			         strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * cache_open_once - one attempt: open and lock, then create, attach or
 * retire.  The flock(2) on the segment serializes creators and
 * validators; it dies with its process.  Returns 0, -1, or 1 (again).
 */
static int
cache_open_once(struct cache *c, struct cache_open_arg *a, char *why,
                size_t whylen)
{
	struct stat st;
	int fd, rc;

	if ((fd = cache_open_fd(a, why, whylen)) < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		rc = util_why(why, whylen, "fstat: %s", strerror(errno));
	} else if (st.st_nlink == 0) {
		rc = 1; /* unlinked by a re-creator meanwhile */
	} else if (st.st_size == 0 && a->flags) {
		rc =
		    util_why(why, whylen, "cache segment %s is empty", a->name);
	} else if (st.st_size == 0) {
		rc = cache_create(c, fd, a->mode, a->gid, why, whylen);
		if (rc != 0 && ftruncate(fd, 0) != 0)
			rc = -1; /* leave it empty for the next creator */
		a->created = rc == 0;
	} else {
		rc = cache_attach(c, fd, &st, a, why, whylen);
	}
	/* Unlock explicitly: the mapping keeps the open file description,
	 * and with it the flock, alive after close(2). */
	flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

/* cache_open - see cache.h */
struct cache *
cache_open(const char *name, size_t capacity, mode_t mode, gid_t gid,
           unsigned flags, char *why, size_t whylen)
{
	struct cache_open_arg a = {name, mode & 07777, gid, flags, 0, ""};
	struct cache *c;
	int rc = 1;

	if (cache_name_check(name, why, whylen) != 0)
		return NULL;
	if (!flags && (capacity == 0 || capacity > CACHE_CAPACITY_MAX)) {
		util_why(why, whylen, "cache capacity %zu is not 1..%zu",
		         capacity, CACHE_CAPACITY_MAX);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->readonly = (flags & CACHE_READONLY) != 0;
	c->nbuckets = (capacity + CACHE_WAYS - 1) / CACHE_WAYS;
	if (c->nbuckets < 2)
		c->nbuckets = 2;
	for (int i = 0; rc == 1 && i < CACHE_OPEN_TRIES; i++)
		rc = cache_open_once(c, &a, why, whylen);
	if (rc == 1)
		util_why(why, whylen, "cache segment %s keeps changing", name);
	if (rc != 0) {
		cache_close(c);
		return NULL;
	}
	c->origin = a.reason[0] ? CACHE_RECREATED
	            : a.created ? CACHE_CREATED
	                        : CACHE_ATTACHED;
	if (c->origin == CACHE_RECREATED)
		util_why(why, whylen, "cache segment %s re-created: %s", name,
		         a.reason);
	return c;
}

/* cache_origin - see cache.h */
enum cache_origin
cache_origin(const struct cache *c)
{
	return c->origin;
}

/* cache_retired - see cache.h */
int
cache_retired(const struct cache *c)
{
	return atomic_load_explicit(&c->hdr->retired, memory_order_relaxed) !=
	       0;
}

/* cache_close - see cache.h */
void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	cache_unmap(c);
	free(c);
}

/* cache_destroy - see cache.h */
int
cache_destroy(const char *name, char *why, size_t whylen)
{
	struct cache *c;

	if (cache_name_check(name, why, whylen) != 0)
		return -1;
	c = cache_open(name, 0, 0, (gid_t) -1, CACHE_ATTACH, NULL, 0);
	if (c != NULL)
		atomic_store_explicit(&c->hdr->retired, 1,
		                      memory_order_relaxed);
	cache_close(c);
	if (shm_unlink(name) != 0 && errno != ENOENT)
		return util_why(why, whylen, "unlink %s: %s", name,
		                strerror(errno));
	return 0;
}
