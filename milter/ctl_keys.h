#ifndef RELAYGATE_CTL_KEYS_H
#define RELAYGATE_CTL_KEYS_H

/*
 * ctl_keys - the relaygatectl commands for the provider's DKIM keys:
 * "keys" (what each selector's key is, the record to publish at its
 * target, and whether public DNS has it) and "keygen" (a new key).
 *
 * MODEL
 *	Both commands work from a loaded configuration: the selectors, their
 *	targets and key files, daemon.user.  Keys are read as the daemon
 *	reads them (keys_load(): owned by root or daemon.user, no group or
 *	other permissions), so "keys" shows the problem relaygate would
 *	have.  The record is printed in zone-file syntax, one line that can
 *	be pasted into the target's zone: "_dkim-a.prezent.nl. IN TXT (
 *	"v=DKIM1; k=rsa; p=..." "..." )", character-strings of at most 255
 *	bytes.  "keys" asks DNS through the dns module (resolver settings
 *	of the configuration) whether each target publishes exactly our
 *	public key, and shows the selector relaygate would sign with
 *	(dkim_check_signing()).  "keygen" writes a key with keys_generate()
 *	(mode 0600, atomic, never over an existing file without --force),
 *	owned by daemon.user when run as root.
 *
 *	Exit status of "keys": 0 every selector's key is published (or, with
 *	--no-dns, every key loads); 1 some key is not published (missing,
 *	another key, malformed); 2 a key cannot be loaded, DNS could not be
 *	asked or answered with a temporary failure, or a usage error.
 *	"keygen": 0 written, 1 refused or failed, 2 usage error.
 *
 * OWNERSHIP
 *	cfg and argv are borrowed; argv holds the arguments after the
 *	command's name (argv[0] is the first argument, not the command).
 *
 * CONCURRENCY
 *	Command-line use only: single-threaded, uses getopt_long() (global
 *	state) and opens its own resolver with dns_open().
 *
 * ERRORS
 *	Reports go to standard output, problems to standard error as
 *	"relaygatectl: ...".  Nothing is logged.
 *
 * SEE ALSO
 *	relaygatectl(8), keys.h, dkim_check.h, RFC 6376 section 3.6.1,
 *	RFC 1035 section 5.1 (zone files).
 */

#include "config.h"

/* ctl_keys - "relaygatectl keys [--no-dns]" */
int ctl_keys(const struct config *cfg, int argc, char **argv);

/*
 * ctl_keygen - "relaygatectl keygen SELECTOR [--type rsa|ed25519]
 * [--bits 2048|3072|4096] [--out FILE] [--force]"; SELECTOR must be
 * configured (its target names the record), FILE defaults to its key.
 */
int ctl_keygen(const struct config *cfg, int argc, char **argv);

#endif
