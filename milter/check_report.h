#ifndef RELAYGATE_CHECK_REPORT_H
#define RELAYGATE_CHECK_REPORT_H

/*
 * check_report - a domain check (check.h) as the consultant reads it:
 * every record that matters, expected against found, a status each and
 * the fix in zone-file syntax.
 *
 * MODEL
 *	A report lists items in a fixed order: the SPF record; per
 *	configured selector, its delegation (the CNAME at
 *	<selector>._domainkey.<domain>) and the key behind it (at the
 *	selector's target); the DMARC record.  Each item has a status:
 *	  ok         nothing to do;
 *	  warning    works now, but should change (a copied key that breaks
 *	             at the next rotation, the relay authorized by address
 *	             instead of the include, no or an unusable DMARC record);
 *	  fail       must change before mail is signed and authorized;
 *	  temporary  DNS trouble: not known now, ask again.
 *	The fix is zone-file text (records, and ';' comment lines for what
 *	a record cannot say) and names who acts: the customer, the provider
 *	(our key missing at our own target), or nobody (retry).  The SPF fix
 *	is spf_merge()'s record: the customer's record with our include.
 *	The domain's state and the exit status come from the verdict
 *	(verdict.h), the milter's own condensation, so the tool and the
 *	milter never disagree: 0 configured; 1 not, when an SPF or DKIM
 *	item says for certain what must change (a fail, or a copied key);
 *	else 2, temporarily unknown.  DMARC is optional and never changes
 *	the state.  The rotation line says
 *	whether every selector is delegated, i.e. whether the domain keeps
 *	its signature when the provider switches selectors.
 *
 * OWNERSHIP
 *	Everything is copied into the caller's struct check_report (about
 *	80 KiB: allocate it); the inputs are borrowed for the call.
 *
 * CONCURRENCY
 *	Pure; thread-safe.
 *
 * ERRORS
 *	None: texts are cut to fit.  Nothing is logged.
 *
 * SEE ALSO
 *	check.h, verdict.h, spf_merge.h, dkim_check.h, dmarc.h;
 *	doc/relaygatectl-check.md (the output formats).
 */

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "config.h"
#include "keys.h"
#include "spf_merge.h"
#include "verdict.h"

#define CHECK_REPORT_MAX_ITEMS (2 + 2 * CHECK_MAX_SELECTORS)
#define CHECK_REPORT_TEXT 2800 /* an SPF record in zone syntax fits */
#define CHECK_REPORT_LINE 640

enum check_report_status {
	CHECK_REPORT_OK,
	CHECK_REPORT_WARNING,
	CHECK_REPORT_FAIL,
	CHECK_REPORT_TEMPORARY,
};

enum check_report_part {
	CHECK_REPORT_SPF,   /* TXT at the domain */
	CHECK_REPORT_DKIM,  /* CNAME at <selector>._domainkey.<domain> */
	CHECK_REPORT_KEY,   /* the key at the selector's target */
	CHECK_REPORT_DMARC, /* TXT at _dmarc.<domain> */
};

/* Who must act on an item. */
enum check_report_actor {
	CHECK_REPORT_NOBODY,
	CHECK_REPORT_CUSTOMER,
	CHECK_REPORT_PROVIDER,
	CHECK_REPORT_RETRY,
};

struct check_report_item {
	enum check_report_part part;
	enum check_report_status status;
	enum check_report_actor fix_by;
	char selector[DOMAIN_SIZE]; /* DKIM and KEY; else "" */
	char name[DOMAIN_SIZE];     /* the DNS name of the record */
	char type[8];               /* "TXT" or "CNAME" */
	char code[32];              /* the check's word: "fail", "missing" */
	char expected[CHECK_REPORT_LINE];
	char found[CHECK_REPORT_TEXT];
	char detail[CHECK_REPORT_LINE]; /* the reason, one line */
	char fix[CHECK_REPORT_TEXT];    /* zone-file lines; "" if none */
	int remove_txt; /* DKIM: the fix replaces TXT records at name */
};

/* Details of the SPF evaluation, for the machine-readable output. */
struct check_report_spf {
	char result[16];                  /* spf_check_result_name() */
	char reason[24];                  /* spf_check_reason_name() */
	char summary[SPF_CHECK_WHY_SIZE]; /* "spf=fail (include:x missing)" */
	char record_status[16]; /* "present", "absent", "multiple", ... */
	char record[SPF_RECORD_MAX_LEN + 1]; /* the (first) record, or "" */
	int has_include;
	int authorized_other;
	int lookups, voids;
	char relay[CHECK_REPORT_LINE]; /* "192.0.2.25, 2001:db8::25 (...)" */
	struct {
		char address[SPF_CHECK_ADDR_SIZE];
		char result[16];
		char reason[24];
		char why[SPF_CHECK_WHY_SIZE];
	} addr[SPF_CHECK_MAX_ADDRS];
	size_t naddrs;
};

struct check_report {
	char domain[DOMAIN_SIZE];
	enum verdict_state state;
	int exit;                        /* 0, 1 or 2, as the module says */
	enum check_report_status status; /* the worst item's */
	int rotation_ready;
	char rotation[CHECK_REPORT_LINE]; /* the rotation-readiness line */
	char signing[DOMAIN_SIZE];        /* the selector mail is signed with */
	char dmarc_policy[16];            /* DMARC found: the policy, else "" */
	struct check_report_spf spf;
	struct spf_merge merge; /* the SPF record to publish */
	struct check_report_item item[CHECK_REPORT_MAX_ITEMS];
	size_t nitems;
	int64_t duration_ms;
};

/*
 * What a report is built from.  keys[i] is our key for
 * cfg->dkim_selectors[i] (NULL: not loaded; keys may be NULL).  merge
 * carries the lookup counts for spf_merge() (record and include are
 * filled in here); spf_merge_in's -1 means unknown.
 */
struct check_report_in {
	const struct config *cfg;
	const struct check_result *check;
	const struct keys_key *const *keys;
	struct spf_merge_in merge;
};

/* check_report_build - the report of a check of all parts */
void check_report_build(const struct check_report_in *in,
                        struct check_report *out);

/* check_report_status_name - "ok", "warning", "fail", "temporary" */
const char *check_report_status_name(enum check_report_status status);

/* check_report_part_name - "spf", "dkim", "key", "dmarc" */
const char *check_report_part_name(enum check_report_part part);

/* check_report_actor_name - "", "customer", "provider", "retry" */
const char *check_report_actor_name(enum check_report_actor actor);

/*
 * check_report_txt_line - "NAME. IN TXT "..."" for a record text,
 * split into strings of at most 255 bytes, into buf.
 */
void check_report_txt_line(const char *name, const char *text, char *buf,
                           size_t size);

#endif
