#ifndef NULLMILTER_FLOOR_H
#define NULLMILTER_FLOOR_H

/*
 * floor - what the floor milters on relaygate's engine (nullmserve.c,
 * signmserve.c) share besides relaygate's negotiation (negotiation.h,
 * which they take as relaygate does): their socket.
 */

/*
 * floor_listen - listen on arg ("unix:/path", made world-writable, or
 * "inet:port@address"); the socket, with *tcp set, or -1 after a line on
 * stderr that starts with prog.
 */
int floor_listen(const char *prog, const char *arg, int *tcp);

#endif
