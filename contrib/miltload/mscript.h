#ifndef MILTLOAD_MSCRIPT_H
#define MILTLOAD_MSCRIPT_H

/*
 * mscript - milter sessions driven by a small script, every reply printed
 * as one stable line that a shell test can grep.
 *
 * MODEL
 *	One command a line; "#" starts a comment line.  In TEXT, VALUE and
 *	NAME the escapes \\ \t \r \n \" \xHH work (\x00 only in raw).
 *	  open                      connect to the socket and negotiate
 *	  connect [HOST [ADDR [PORT]]]   SMFIC_CONNECT (opens first if no
 *	                            session); ADDR with ':' is IPv6, with a
 *	                            leading '/' a unix socket, "unknown" none
 *	  helo [NAME]               SMFIC_HELO
 *	  mail ADDR [PARAM ...]     SMFIC_MAIL; <> added unless present; sets
 *	                            macros i (a new queue id) and {mail_addr}
 *	  rcpt ADDR [PARAM ...]     SMFIC_RCPT; sets {rcpt_addr}
 *	  data                      SMFIC_DATA
 *	  header NAME: VALUE        SMFIC_HEADER (one leading space of VALUE
 *	                            stripped unless SMFIP_HDR_LEADSPC)
 *	  headers COUNT SIZE        COUNT headers X-Fill-N of SIZE bytes each
 *	  eoh                       SMFIC_EOH
 *	  body TEXT                 one body line: TEXT and CRLF
 *	  body-raw TEXT             TEXT as it is (no CRLF added)
 *	  body-bytes N              N bytes of generated CRLF-ended lines
 *	  eom                       SMFIC_BODYEOB: edits, then the decision
 *	  abort | quit              SMFIC_ABORT | SMFIC_QUIT (quit closes)
 *	  close                     close the socket without a word
 *	  macro NAME [VALUE]        set (or without VALUE remove) a macro
 *	  raw CODE [TEXT]           one packet as given (CODE: a character
 *	                            or 0xHH), no reply awaited
 *	  raw-wait CODE [TEXT]      the same, then read the replies
 *	  read                      read replies (or see the milter close)
 *	  sleep MS                  pause
 *	Output, one line per event: "CMD REPLY [key=value ...]", e.g.
 *	"mail continue", "eom insheader index=0 name=\"DKIM-Signature\"
 *	value=\"v=1; ...\"", "eom replycode text=\"451 4.7.1 ...\"",
 *	"eom accept"; "CMD skipped" (the milter negotiated not to get it),
 *	"CMD noreply" (sent, no reply negotiated), "CMD sent" (abort, quit,
 *	raw); "queue_id ID" before each mail; "open version=6 actions=0x..
 *	protocol=0x.." and "open symlist stage=NAME macros=\"...\"";
 *	"headers count=N REPLY"; "read closed", "read timeout"; "close".
 *	A body longer than one chunk gets one line per chunk.
 *	A failure prints "CMD error kind=KIND why=\"...\"" (KIND: connect,
 *	timeout, closed, ioerror, protocol, nosession) and ends the
 *	session; the script goes on (the next connect or open starts a new
 *	one).  Values are always quoted, with \\ \" \t \r \n and \xHH for
 *	other bytes outside printable ASCII.
 *
 * OWNERSHIP
 *	Everything passed in is borrowed for the call.
 *
 * CONCURRENCY
 *	One script per thread.
 *
 * ERRORS
 *	mscript_run() returns 0 when no error line was printed, 1 when one
 *	was, 2 for a script error (unknown command, bad argument; reported
 *	on stderr with the line number, the run stops).
 */

#include <stdio.h>

#include "mconn.h"
#include "msession.h"

/* mscript_run - run the script read from in (named name); print to out */
int mscript_run(FILE *in, const char *name, const struct mconn_addr *a,
                const struct msession_opts *o, FILE *out);

#endif
