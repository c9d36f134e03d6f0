#!/usr/bin/python3
"""sockopt.py - TCP options of the socket another process accepts.

Usage: sockopt.py PID PORT

Connects to 127.0.0.1:PORT, finds among the file descriptors of process
PID the socket that accepted this connection, takes a copy of it
(pidfd_getfd(2): root, Linux 5.6+) and prints "nodelay=N" with its
TCP_NODELAY value.  Exit 1 if PID has no such socket within 3 seconds,
2 on a usage error.
"""

import ctypes
import os
import socket
import sys
import time

SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


def getfd(pidfd, fd):
    libc = ctypes.CDLL(None, use_errno=True)
    got = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    if got < 0:
        return None
    return got


def accepted(pid, pidfd, peer):
    """The TCP_NODELAY value of PID's socket connected to peer, or None."""
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                continue
        except OSError:
            continue
        fd = getfd(pidfd, int(name))
        if fd is None:
            continue
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            continue
        with sock:
            try:
                if (sock.type != socket.SOCK_STREAM or
                        sock.family != socket.AF_INET or
                        sock.getpeername() != peer):
                    continue
            except OSError:
                continue
            return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    pidfd = os.pidfd_open(pid)
    with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
        peer = conn.getsockname()
        give_up = time.monotonic() + 3
        while time.monotonic() < give_up:
            nodelay = accepted(pid, pidfd, peer)
            if nodelay is not None:
                print("nodelay=%d" % (1 if nodelay else 0))
                return 0
            time.sleep(0.05)
    print("process %d accepted no connection from %s:%d on port %d" %
          (pid, peer[0], peer[1], port))
    return 1


if __name__ == "__main__":
    sys.exit(main())
