#!/usr/bin/python3
"""blackhole.py - a DNS server that reads every query and never answers.

Usage: blackhole.py ADDRESS PORT

Names delegated to ADDRESS then time out for real: with no listener at
all the kernel would answer with ICMP port-unreachable and resolvers would
fail fast instead (test-world.md section 3).  UDP datagrams are read and
dropped; TCP connections are accepted, read and held open until the peer
closes them (at most MAX_TCP at a time, the oldest is dropped first).
Runs until killed; prints one line per query to stdout for the world log.
"""

import selectors
import socket
import sys

MAX_TCP = 64


def listen(addr, port):
    """Bind the UDP and the TCP socket of the black hole."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((addr, port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, port))
    tcp.listen(16)
    return udp, tcp


def serve(udp, tcp):
    """Swallow queries forever."""
    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ, "udp")
    sel.register(tcp, selectors.EVENT_READ, "accept")
    conns = []
    while True:
        for key, _ in sel.select():
            if key.data == "udp":
                _, peer = udp.recvfrom(65535)
                print("udp query from %s:%d dropped" % peer, flush=True)
            elif key.data == "accept":
                conn, peer = tcp.accept()
                print("tcp connection from %s:%d held" % peer, flush=True)
                if len(conns) >= MAX_TCP:
                    old = conns.pop(0)
                    sel.unregister(old)
                    old.close()
                conns.append(conn)
                sel.register(conn, selectors.EVENT_READ, "conn")
            elif not key.fileobj.recv(65535):
                sel.unregister(key.fileobj)
                conns.remove(key.fileobj)
                key.fileobj.close()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: blackhole.py ADDRESS PORT")
    udp, tcp = listen(sys.argv[1], int(sys.argv[2]))
    print("blackhole listening on %s:%s" % (sys.argv[1], sys.argv[2]),
          flush=True)
    serve(udp, tcp)


if __name__ == "__main__":
    main()
