#ifndef RELAYGATE_CONFIG_H
#define RELAYGATE_CONFIG_H

/*
 * config - relaygate's settings: parsed once, validated, then immutable.
 *
 * MODEL
 *	One declarative table in config.c lists every setting: its path in
 *	the libconfig file ("daemon.socket"), type, default, field, range and
 *	validator.  The table drives parsing, defaults, range checks, the
 *	cross-checks, "relaygate -n" and "relaygatectl config dump"; nothing
 *	else knows the keys.  A loaded configuration is an immutable,
 *	reference-counted snapshot.  Reload builds a new snapshot, validates
 *	it completely and only then publishes it; users that acquired the old
 *	one (a milter connection, for its whole life) keep it until they
 *	release it, so mail in flight never sees a half-applied change.
 *	This module is the only user of libconfig.
 *
 *	Durations are written as seconds (an integer) or as a string with
 *	units ("250ms", "5s", "10m", "2h", "7d", "1h30m") and are stored in
 *	milliseconds.  File modes are octal strings ("0660").
 *
 * OWNERSHIP
 *	config_load() returns a snapshot holding one reference; every string
 *	and array inside belongs to the snapshot and lives as long as it.
 *	config_acquire() adds a reference that the caller gives back with
 *	config_release().
 *
 * CONCURRENCY
 *	A snapshot is read-only and may be shared by any number of threads.
 *	config_publish() and config_acquire() are thread-safe (a mutex guards
 *	the current pointer; reference counts are atomic).
 *
 * ERRORS
 *	config_load() returns NULL and writes "FILE:LINE: key: problem" into
 *	why; it never logs and never exits.
 */

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

struct config_strlist {
	char **v;
	size_t n;
};

/* The most selectors dkim.selectors may list. */
#define CONFIG_MAX_SELECTORS 4

/* One DKIM selector the provider signs with. */
struct config_selector {
	char *name;   /* "prezent-a": the s= tag and the customer's label */
	char *target; /* "_dkim-a.prezent.nl": where the CNAME must point */
	char *key;    /* private key file (PEM) */
	char *also;   /* a selector to sign with as well (dual signing), "" */
};

/* What happens to a message of a misconfigured domain. */
enum config_action {
	CONFIG_ACTION_TAG,     /* deliver with the status header */
	CONFIG_ACTION_DEFER,   /* 4xx: the sender retries later */
	CONFIG_ACTION_REJECT,  /* 5xx: bounced to the sender */
	CONFIG_ACTION_MONITOR, /* deliver; only the log says */
	CONFIG_ACTION_EXEMPT,  /* overrides only: the policy does not apply */
};

/* Mail from clients outside the scope. */
enum config_outside {
	CONFIG_OUTSIDE_PASS,   /* untouched */
	CONFIG_OUTSIDE_POLICY, /* judged like the rest, never signed */
};

/* A per-domain override of the policy. */
struct config_override {
	char *domain;  /* "example.nl", or "*.example.nl" for its subdomains */
	int action;    /* enum config_action */
	char *expires; /* "YYYY-MM-DD" (UTC) after which it lapses, or "" */
};

enum config_resolver_source {
	CONFIG_RESOLVER_SYSTEM,
	CONFIG_RESOLVER_FORWARDERS,
};

struct config {
	/* daemon */
	char *socket;
	int socket_mode;
	char *socket_group;
	char *user;
	char *group;
	char *pid_file;
	int64_t drain_timeout_ms;

	/* log; the enums are those of log.h */
	int log_destination;
	int log_facility;
	int log_level;
	int log_format;
	int64_t log_reminder_interval_ms; /* domain_reminder; 0: never */

	/* resolver */
	int resolver_source;
	struct config_strlist resolver_forwarders;
	char *resolver_resolv_conf;
	int64_t resolver_timeout_ms;
	int64_t resolver_check_timeout_ms;
	char *resolver_trust_anchor;

	/* relay */
	struct config_strlist relay_addresses;
	char *relay_spf_include;

	/* dkim */
	char *dkim_active_selector;
	struct config_selector *dkim_selectors;
	size_t dkim_nselectors;
	struct config_strlist dkim_sign_headers;     /* added to the default */
	struct config_strlist dkim_oversign_headers; /* listed twice in h= */
	int64_t dkim_provider_interval_ms;

	/* scope */
	struct config_strlist scope_networks;
	int scope_sasl;
	int scope_outside;

	/* policy; actions are enum config_action */
	int policy_spf;
	int policy_dkim;
	int policy_both;
	int policy_temporary;
	int policy_multiple_from;
	int64_t policy_grace_ms;
	char *policy_enforce_from;
	char *policy_help_url;
	char *policy_status_header;
	char *policy_subject_prefix;
	struct config_override *policy_overrides;
	size_t policy_noverrides;
	char *policy_overrides_file;

	/* cache: the shared verdict table (cache.h) and its state file */
	char *cache_name;               /* shm name, "/relaygate" */
	int64_t cache_capacity;         /* records */
	int cache_mode;                 /* of the segment */
	char *cache_group;              /* of the segment; "": daemon.group */
	int64_t cache_ttl_min_ms;       /* every verdict lives this long */
	int64_t cache_ttl_max_ms;       /* cap of configured verdicts */
	int64_t cache_ttl_bad_max_ms;   /* cap of partial/unconfigured */
	int64_t cache_ttl_temp_ms;      /* TTL of temporary verdicts */
	int64_t cache_max_stale_ms;     /* served stale at most this long */
	int64_t cache_refresh_ahead_ms; /* refresh busy domains this early */
	char *cache_state_file;         /* "": no state file */
	int64_t cache_snapshot_interval_ms; /* how often it is written */

	/* metrics: the optional HTTP listener (metrics_http.h) */
	char *metrics_listen;     /* "127.0.0.1:9787"; "": off */
	int metrics_allow_remote; /* may listen on a non-loopback address */

	/* advise: the message to a customer's DNS administrator */
	char *advise_templates; /* directory of <language>.txt templates */
	char *advise_language;  /* the default language, "nl" */

	/* bookkeeping, not settings */
	struct config_override *file_overrides; /* from overrides_file */
	size_t nfile_overrides;
	char *path;
	unsigned char *in_file; /* per setting: 1 if the file set it */
	int refs;
};

/*
 * config_load - read, parse and validate a configuration file.  Unknown
 * keys, wrong types, out-of-range values, failed cross-checks and a
 * missing or unreadable file are all errors naming file, line and key.
 */
struct config *config_load(const char *path, char *why, size_t whylen);

/*
 * config_load_string - the same from text in memory; "name" stands for
 * the file in messages.  For tests and for the dump round trip.
 */
struct config *config_load_string(const char *text, const char *name, char *why,
                                  size_t whylen);

/* config_ref - add a reference to a snapshot the caller already holds */
struct config *config_ref(struct config *cfg);

/* config_release - drop a reference; the last one frees.  NULL is fine. */
void config_release(struct config *cfg);

/*
 * config_publish - make cfg the current snapshot; the reference the
 * caller held passes to the module.  The previous current snapshot loses
 * the module's reference.
 */
void config_publish(struct config *cfg);

/* config_acquire - the current snapshot plus a reference, or NULL */
struct config *config_acquire(void);

/*
 * config_dump - write every effective setting in libconfig syntax, one
 * per line, grouped; a setting that differs from its default is followed
 * by a comment giving the default.  Returns the number of non-defaults.
 */
int config_dump(const struct config *cfg, FILE *out);

/*
 * config_selector_find - the selector of that name, or NULL.
 */
const struct config_selector *config_selector_find(const struct config *cfg,
                                                   const char *name);

/*
 * config_restart_changes - names of restart-only settings (socket, user,
 * ...) that differ between two snapshots, comma-separated into buf;
 * returns how many differ.  A reload applies everything else.
 */
int config_restart_changes(const struct config *old, const struct config *new,
                           char *buf, size_t size);

/*
 * config_date - a "YYYY-MM-DD" setting as seconds since the epoch (UTC
 * midnight); 0 for "".
 */
int64_t config_date(const char *date);

/*
 * config_override_find - the override in force for domain at time now
 * (an exact entry before a "*." one), or NULL.
 */
const struct config_override *
config_override_find(const struct config *cfg, const char *domain, int64_t now);

/* config_action_name - "tag", "defer", ... */
const char *config_action_name(int action);

/* config_key_in_file - did the file set setting i (else: default)? */
int config_key_in_file(const struct config *cfg, size_t i);

/* config_key_count - how many settings the table declares */
size_t config_key_count(void);

/* config_key_path - the path of setting i (0 <= i < count), for tests */
const char *config_key_path(size_t i);

#endif
