#!/usr/bin/python3
"""syslogd.py - the world's /dev/log: append every syslog datagram to a file.

Usage: syslogd.py SOCKET LOGFILE

Postfix's command-line tools log early fatal errors only to syslog
(test-world.md section 5); inside the world SOCKET is a namespace-private
/dev/log and LOGFILE is $W/log/syslog, so those errors become readable.
The socket is created mode 0666 (every user may log), replacing a stale
one.  Each datagram becomes one line, "<PRI>" prefix kept.  Runs until
killed.
"""

import os
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: syslogd.py SOCKET LOGFILE")
    path, logfile = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    with open(logfile, "ab", buffering=0) as out:
        while True:
            data = sock.recv(65536)
            out.write(data.rstrip(b"\0\n") + b"\n")


if __name__ == "__main__":
    main()
