#ifndef RELAYGATE_DAEMON_H
#define RELAYGATE_DAEMON_H

/*
 * daemon - what makes relaygate a well-behaved Unix daemon: signal
 * masks, detaching, the pid file and dropping root privileges.
 *
 * MODEL
 *	SIGHUP, SIGTERM and SIGINT stop relaygate, SIGUSR1 reloads it.  All
 *	four are blocked in every thread, so daemon_block_signals() runs in
 *	main() before the first thread exists.  The main thread then waits
 *	for them synchronously (daemon_wait_signal) while the milter serves
 *	in other threads, so a signal never interrupts a session.
 *Start-up order: block signals, detach, open the socket and read keys (as
 *root), write the pid file, drop privileges, start threads.
 *
 * OWNERSHIP
 *	Strings are borrowed for the call.
 *
 * CONCURRENCY
 *	Start-up functions run in the main thread before other threads.
 *
 * ERRORS
 *	-1 with a reason in why; nothing is logged here.
 */

#include <stddef.h>
#include <stdint.h>

/* daemon_block_signals - block HUP, TERM, INT and USR1 in this thread */
void daemon_block_signals(void);

/* daemon_detach - fork into the background, new session, cwd "/" */
int daemon_detach(char *why, size_t whylen);

/* daemon_pidfile_write - write our pid, replacing a stale file */
int daemon_pidfile_write(const char *path, char *why, size_t whylen);

/* daemon_pidfile_remove - best effort at exit */
void daemon_pidfile_remove(const char *path);

/*
 * daemon_drop_privileges - when running as root, become user (and group,
 * or the user's primary group when group is ""), with the user's
 * supplementary groups.  An empty user keeps the current identity.
 * Not running as root and asked to become someone else is an error.
 */
int daemon_drop_privileges(const char *user, const char *group, char *why,
                           size_t whylen);

/*
 * daemon_wait_signal - wait up to timeout_ms (-1: for ever) for one of the
 * signals sigs[0..nsigs), which must be blocked; returns the signal, or 0
 * when the time is up.  Called from the main thread, it receives a signal
 * sent to the process before any other thread waiting for it: Linux offers
 * a process-directed signal to the thread-group leader first.
 */
int daemon_wait_signal(const int *sigs, int nsigs, int64_t timeout_ms);

#endif
