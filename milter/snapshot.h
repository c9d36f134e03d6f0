#ifndef RELAYGATE_SNAPSHOT_H
#define RELAYGATE_SNAPSHOT_H

/*
 * snapshot - the state file: per-domain history that must survive a
 * reboot (the shared-memory cache survives only restarts).
 *
 * MODEL
 *	For every cache record with history (a message counted, or
 *	first_seen_bad set) the file keeps the domain, first_seen_bad,
 *	last_seen, the number of checks, the state byte and the message
 *	counters; never a verdict, which is re-checked after a reboot.
 *	Loading merges into the table (cache_merge(): counters take the
 *	maximum, first_seen_bad the earlier time unless the table holds a
 *	good verdict), so loading at every start is right both after a reboot
 *	(the table is empty) and after a restart (the table is newer).
 *	Format, integers little-endian:
 *	  header  "RGSTATE\n", u32 version (1), u32 counters per record,
 *	          i64 saved_at
 *	  records u8 length, the domain, u8 state, i64 first_seen_bad,
 *	          i64 last_seen, u32 checks, u32 counters[]
 *	  trailer u64 record count, u64 FNV-1a of every byte before it,
 *	          "RGSTEND\n"
 *	A file is written to a temporary name in the same directory,
 *	flushed with fsync(2) and renamed over the old one, and the
 *	directory is synced, so a crash leaves the old file or the new one.
 *
 * OWNERSHIP
 *	Paths are borrowed for the call.  Nothing is retained.
 *
 * CONCURRENCY
 *	Both functions may run while other threads and processes use the
 *	cache (they use cache_foreach() and cache_merge()).  Two savers of
 *	one path must be serialized by the caller (the last rename wins).
 *
 * ERRORS
 *	Both return -1 with a reason naming the file.  A load that fails
 *	(unreadable, foreign, truncated, corrupt, other version) has merged
 *	nothing: the whole file is validated first.  The caller reports the
 *	reason and carries on; a bad state file is never fatal.  A missing
 *	file is not an error (first start).  Nothing logs.
 */

#include <stddef.h>
#include <stdint.h>

#include "cache.h"

struct snapshot_info {
	size_t records;   /* written, or merged */
	int64_t saved_at; /* when the file was written */
	int absent;       /* load: there was no file */
};

/*
 * snapshot_save - write the history of every record to path atomically.
 * info (may be NULL) receives the number of records written.
 */
int snapshot_save(struct cache *c, const char *path, int64_t now,
                  struct snapshot_info *info, char *why, size_t whylen);

/*
 * snapshot_load - validate path completely, then merge its records into
 * the cache.  info (may be NULL) says how many, and when it was saved.
 */
int snapshot_load(struct cache *c, const char *path, struct snapshot_info *info,
                  char *why, size_t whylen);

#endif
