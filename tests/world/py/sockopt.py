#!/usr/bin/python3
"""sockopt.py - TCP options of another process's listening socket.

Usage: sockopt.py PID PORT

Finds, among the file descriptors of process PID, the TCP socket that
listens on PORT, takes a copy of it (pidfd_getfd(2): root, Linux 5.6+)
and prints "nodelay=N" with its TCP_NODELAY value (accepted sockets take
the listener's).  Exit 1 if PID has no such socket, 2 on a usage error.
"""

import ctypes
import os
import socket
import sys

SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


def getfd(pidfd, fd):
    libc = ctypes.CDLL(None, use_errno=True)
    got = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    if got < 0:
        return None
    return got


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    pidfd = os.pidfd_open(pid)
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
            if (sock.type != socket.SOCK_STREAM or
                    sock.family not in (socket.AF_INET, socket.AF_INET6) or
                    not sock.getsockopt(socket.SOL_SOCKET,
                                        socket.SO_ACCEPTCONN) or
                    sock.getsockname()[1] != port):
                continue
            print("nodelay=%d" % sock.getsockopt(socket.IPPROTO_TCP,
                                                 socket.TCP_NODELAY))
            return 0
    print("no TCP socket of process %d listens on port %d" % (pid, port))
    return 1


if __name__ == "__main__":
    sys.exit(main())
