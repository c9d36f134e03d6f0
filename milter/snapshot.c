/*
 * snapshot - the state file of per-domain history, written atomically and
 * validated completely before anything is merged.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain.h"
#include "snapshot.h"
#include "util.h"

#define SNAPSHOT_MAGIC "RGSTATE\n"
#define SNAPSHOT_END "RGSTEND\n"
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HEADER 24  /* magic, version, counters, saved_at */
#define SNAPSHOT_TRAILER 24 /* count, checksum, end magic */
#define SNAPSHOT_FIXED (1 + 8 + 8 + 4 + 4 * CACHE_COUNTERS)
#define SNAPSHOT_RECORD_MAX (1 + DOMAIN_MAX + SNAPSHOT_FIXED)
#define SNAPSHOT_FILE_MAX ((size_t) 1 << 30)
#define SNAPSHOT_FNV_BASIS 0xcbf29ce484222325ULL

/* The writer's state. */
struct snapshot_out {
	FILE *fp;
	uint64_t sum;
	size_t count;
	int failed;
};

/* snapshot_fnv - FNV-1a over more bytes */
static uint64_t
snapshot_fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* snapshot_put - little-endian n-byte integer */
static unsigned char *
snapshot_put(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		*p++ = (unsigned char) (v >> (8 * i));
	return p;
}

/* snapshot_get - little-endian n-byte integer */
static uint64_t
snapshot_get(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t) p[i] << (8 * i);
	return v;
}

/* snapshot_emit - write bytes and fold them into the checksum */
static void
snapshot_emit(struct snapshot_out *o, const unsigned char *p, size_t n)
{
	o->sum = snapshot_fnv(o->sum, p, n);
	if (fwrite(p, 1, n, o->fp) != n)
		o->failed = 1;
}

/* snapshot_has_history - does a record hold anything worth keeping? */
static int
snapshot_has_history(const struct cache_record *r)
{
	if (r->first_seen_bad != 0 || r->last_seen != 0)
		return 1;
	for (int i = 0; i < CACHE_COUNTERS; i++)
		if (r->counters[i] != 0)
			return 1;
	return 0;
}

/* snapshot_visit - write one record (cache_foreach callback) */
static int
snapshot_visit(const struct cache_record *r, void *arg)
{
	struct snapshot_out *o = arg;
	unsigned char buf[SNAPSHOT_RECORD_MAX], *p = buf;
	size_t len = strlen(r->domain);

	if (!snapshot_has_history(r))
		return 0;
	p = snapshot_put(p, len, 1);
	memcpy(p, r->domain, len);
	p += len;
	p = snapshot_put(p, r->state, 1);
	p = snapshot_put(p, (uint64_t) r->first_seen_bad, 8);
	p = snapshot_put(p, (uint64_t) r->last_seen, 8);
	p = snapshot_put(p, r->checks, 4);
	for (int i = 0; i < CACHE_COUNTERS; i++)
		p = snapshot_put(p, r->counters[i], 4);
	snapshot_emit(o, buf, (size_t) (p - buf));
	o->count++;
	return o->failed;
}

/* snapshot_write - header, records and trailer into an open file */
static int
snapshot_write(struct cache *c, FILE *fp, int64_t now, size_t *count)
{
	struct snapshot_out o = {fp, SNAPSHOT_FNV_BASIS, 0, 0};
	unsigned char buf[SNAPSHOT_HEADER], *p = buf;

	memcpy(p, SNAPSHOT_MAGIC, 8);
	p = snapshot_put(p + 8, SNAPSHOT_VERSION, 4);
	p = snapshot_put(p, CACHE_COUNTERS, 4);
	snapshot_put(p, (uint64_t) now, 8);
	snapshot_emit(&o, buf, SNAPSHOT_HEADER);
	cache_foreach(c, snapshot_visit, &o);
	snapshot_put(buf, o.count, 8);
	snapshot_emit(&o, buf, 8);
	p = snapshot_put(buf, o.sum, 8);
	memcpy(p, SNAPSHOT_END, 8);
	if (fwrite(buf, 1, 16, fp) != 16)
		o.failed = 1;
	*count = o.count;
	return o.failed ? -1 : 0;
}

/* snapshot_sync_dir - make a rename in path's directory durable */
static int
snapshot_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : fsync(fd);

	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/* snapshot_save - see snapshot.h */
int
snapshot_save(struct cache *c, const char *path, int64_t now,
              struct snapshot_info *info, char *why, size_t whylen)
{
	char *tmp = xasprintf("%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	size_t count = 0;
	FILE *fp;
	int rc;

	if (fd < 0) {
		rc = util_why(why, whylen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	if (fchmod(fd, 0640) != 0 || (fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		rc = -1;
	} else {
		rc = snapshot_write(c, fp, now, &count);
		if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
			rc = -1;
		if (fclose(fp) != 0)
			rc = -1;
	}
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0) {
		util_why(why, whylen, "%s: %s", path, strerror(errno));
		unlink(tmp);
	} else if (snapshot_sync_dir(path) != 0) {
		rc = util_why(why, whylen, "%s: sync directory: %s", path,
		              strerror(errno));
	}
	free(tmp);
	if (rc == 0 && info != NULL)
		*info = (struct snapshot_info){count, now, 0};
	return rc;
}

/*
 * snapshot_read - the whole file in fresh memory; NULL with *absent set
 * when there is none, NULL with why when it cannot be read.
 */
static unsigned char *
snapshot_read(const char *path, size_t *len, int *absent, char *why,
              size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	struct stat st;
	ssize_t n = 0;

	*absent = fd < 0 && errno == ENOENT;
	if (fd < 0) {
		util_why(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t) st.st_size > SNAPSHOT_FILE_MAX) {
		util_why(why, whylen, "%s: not a regular file of at most 1 GiB",
		         path);
	} else {
		*len = (size_t) st.st_size;
		buf = xmalloc(*len);
		for (size_t got = 0; got < *len; got += (size_t) n)
			if ((n = read(fd, buf + got, *len - got)) <= 0) {
				util_why(why, whylen, "%s: %s", path,
				         n == 0 ? "shrank while reading"
				                : strerror(errno));
				free(buf);
				buf = NULL;
				break;
			}
	}
	close(fd);
	return buf;
}

/*
 * snapshot_record - decode the record at p (end: where records end) into
 * r and return the byte after it, or NULL if it is not a sound record of
 * a normalized domain.
 */
static const unsigned char *
snapshot_record(const unsigned char *p, const unsigned char *end,
                struct cache_record *r)
{
	char norm[DOMAIN_SIZE];
	size_t len;

	if (p >= end || (len = *p) == 0 || len > DOMAIN_MAX ||
	    (size_t) (end - p) < 1 + len + SNAPSHOT_FIXED)
		return NULL;
	memset(r, 0, sizeof(*r));
	memcpy(r->domain, p + 1, len);
	r->domain[len] = '\0';
	p += 1 + len;
	if (strlen(r->domain) != len ||
	    domain_normalize(r->domain, norm, sizeof(norm), NULL, 0) != 0 ||
	    strcmp(norm, r->domain) != 0)
		return NULL;
	r->state = *p++;
	r->first_seen_bad = (int64_t) snapshot_get(p, 8);
	r->last_seen = (int64_t) snapshot_get(p + 8, 8);
	r->checks = (uint32_t) snapshot_get(p + 16, 4);
	p += 20;
	for (int i = 0; i < CACHE_COUNTERS; i++, p += 4)
		r->counters[i] = (uint32_t) snapshot_get(p, 4);
	if (r->first_seen_bad < 0 || r->last_seen < 0)
		return NULL;
	return p;
}

/* snapshot_frame - check header, trailer and checksum; count and time */
static int
snapshot_frame(const unsigned char *buf, size_t len, size_t *count,
               int64_t *saved_at, char *why, size_t whylen)
{
	const unsigned char *t;
	uint32_t version;

	if (len < 8 || memcmp(buf, SNAPSHOT_MAGIC, 8) != 0)
		return util_why(why, whylen, "not a relaygate state file");
	if (len < SNAPSHOT_HEADER + SNAPSHOT_TRAILER)
		return util_why(why, whylen, "truncated (%zu bytes)", len);
	version = (uint32_t) snapshot_get(buf + 8, 4);
	if (version != SNAPSHOT_VERSION)
		return util_why(why, whylen,
		                "state file version %u, expected %d", version,
		                SNAPSHOT_VERSION);
	if (snapshot_get(buf + 12, 4) != CACHE_COUNTERS)
		return util_why(
		    why, whylen, "%u counters per record, expected %d",
		    (unsigned) snapshot_get(buf + 12, 4), CACHE_COUNTERS);
	t = buf + len - SNAPSHOT_TRAILER;
	if (memcmp(t + 16, SNAPSHOT_END, 8) != 0)
		return util_why(why, whylen, "truncated (no end marker)");
	if (snapshot_fnv(SNAPSHOT_FNV_BASIS, buf, len - 16) !=
	    snapshot_get(t + 8, 8))
		return util_why(why, whylen, "checksum mismatch");
	*count = (size_t) snapshot_get(t, 8);
	*saved_at = (int64_t) snapshot_get(buf + 16, 8);
	return 0;
}

/*
 * snapshot_walk - decode every record; merge them into c unless c is NULL
 * (the validating pass).  Returns the number of records or -1.
 */
static long
snapshot_walk(struct cache *c, const unsigned char *buf, size_t len, char *why,
              size_t whylen)
{
	const unsigned char *p = buf + SNAPSHOT_HEADER;
	const unsigned char *end = buf + len - SNAPSHOT_TRAILER;
	struct cache_record r;
	long n = 0;

	while (p < end) {
		if ((p = snapshot_record(p, end, &r)) == NULL)
			return util_why(why, whylen, "record %ld is corrupt",
			                n);
		if (c != NULL && cache_merge(c, &r) != 0)
			return util_why(why, whylen, "merging %s: %s", r.domain,
			                strerror(errno));
		n++;
	}
	return n;
}

/* snapshot_load - see snapshot.h */
int
snapshot_load(struct cache *c, const char *path, struct snapshot_info *info,
              char *why, size_t whylen)
{
	struct snapshot_info tmp = {0, 0, 0};
	char reason[160];
	unsigned char *buf;
	size_t len = 0, count = 0;
	long n = -1;

	buf = snapshot_read(path, &len, &tmp.absent, why, whylen);
	if (buf == NULL && tmp.absent) {
		if (info != NULL)
			*info = tmp;
		return 0;
	}
	if (buf == NULL)
		return -1;
	if (snapshot_frame(buf, len, &count, &tmp.saved_at, reason,
	                   sizeof(reason)) == 0 &&
	    (n = snapshot_walk(NULL, buf, len, reason, sizeof(reason))) >= 0 &&
	    (size_t) n != count) {
		snprintf(reason, sizeof(reason),
		         "%ld records, trailer says %zu", n, count);
		n = -1;
	}
	if (n >= 0)
		n = snapshot_walk(c, buf, len, reason, sizeof(reason));
	free(buf);
	if (n < 0)
		return util_why(why, whylen, "%s: %s; ignored", path, reason);
	tmp.records = (size_t) n;
	if (info != NULL)
		*info = tmp;
	return 0;
}
