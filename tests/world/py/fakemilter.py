#!/usr/bin/python3
"""fakemilter.py - a stand-in for the relaygate binary, for the world's selftest.

Usage: fakemilter.py -f -c CONF

Behaves like relaygate as world.sh drives it, and nothing more: reads the
unix socket path from CONF's 'socket = "unix:PATH";', listens there
(mode 0666), writes "start" on stdout, logs "reload" on SIGUSR1 and on
SIGTERM waits one second (as libmilter does, shorter) and exits 0.  Every
connection is closed at once, so Postfix treats the milter as failed and
applies milter_default_action.
"""

import os
import re
import signal
import socket
import sys
import time


def socket_path(conf):
    """The unix socket path of the daemon section of conf."""
    with open(conf, encoding="utf-8") as f:
        m = re.search(r'socket\s*=\s*"unix:([^"]+)"', f.read())
    if not m:
        sys.exit("fakemilter: no unix socket in " + conf)
    return m.group(1)


def main():
    if sys.argv[1:3] != ["-f", "-c"] or len(sys.argv) != 4:
        sys.exit("usage: fakemilter.py -f -c CONF")
    path = socket_path(sys.argv[3])
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGUSR1, lambda *_: print("reload", flush=True))
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    sock.listen(16)
    sock.settimeout(0.1)
    print("start socket=" + path, flush=True)
    while not stopping:
        try:
            sock.accept()[0].close()
        except (socket.timeout, InterruptedError):
            pass
    time.sleep(1)
    os.unlink(path)
    print("stop", flush=True)


if __name__ == "__main__":
    main()
