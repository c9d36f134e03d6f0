#!/usr/bin/python3
"""dnsdelay.py - a DNS front that delays every query and logs it.

Usage: dnsdelay.py LISTEN_ADDR PORT UPSTREAM_ADDR UPSTREAM_PORT DELAY_FILE LOG

Listens on LISTEN_ADDR:PORT (UDP and TCP), waits the delay, forwards each
query to the upstream resolver and relays its answer.  The delay is read
from DELAY_FILE (milliseconds, a number; missing or empty means 0) and
re-read when the file changes, so a benchmark can switch it between runs
without a restart.  Every query received is logged as one line "MS QTYPE
QNAME" (milliseconds since the epoch) to LOG, flushed at once, so that a
benchmark can count the queries a burst caused.  Used by contrib/bench.sh
to measure cold checks in round trips: the milter's resolver asks this
front, the front asks the world's unbound.
"""
import asyncio
import os
import struct
import sys
import time


class Front:
    """The shared state: upstream, delay, query log."""

    def __init__(self, upstream, delay_file, log_path):
        self.upstream = upstream
        self.delay_file = delay_file
        self.delay_mtime = None
        self.delay_s = 0.0
        self.log = open(log_path, "a", buffering=1)

    def delay(self):
        """The current delay in seconds, re-read when the file changed."""
        try:
            mtime = os.stat(self.delay_file).st_mtime_ns
        except OSError:
            return 0.0
        if mtime != self.delay_mtime:
            self.delay_mtime = mtime
            try:
                with open(self.delay_file) as f:
                    self.delay_s = float(f.read().strip() or 0) / 1000.0
            except (OSError, ValueError):
                self.delay_s = 0.0
        return self.delay_s

    def note(self, query):
        """Log one query: time, type, name."""
        name, qtype = parse_question(query)
        self.log.write("%d %s %s\n" % (time.time() * 1000, qtype, name))


def parse_question(msg):
    """The first question's name and type of a DNS message."""
    labels, i = [], 12
    try:
        while msg[i]:
            n = msg[i]
            labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        qtype = struct.unpack("!H", msg[i + 1:i + 3])[0]
    except (IndexError, struct.error):
        return "?", "?"
    return ".".join(labels).lower() + ".", str(qtype)


class UpstreamReply(asyncio.DatagramProtocol):
    """One UDP exchange with the upstream resolver."""

    def __init__(self, query, done):
        self.query = query
        self.done = done

    def connection_made(self, transport):
        transport.sendto(self.query)

    def datagram_received(self, data, addr):
        if not self.done.done():
            self.done.set_result(data)

    def error_received(self, exc):
        if not self.done.done():
            self.done.set_exception(exc)


class UdpFront(asyncio.DatagramProtocol):
    """The UDP listener: each query handled in its own task."""

    def __init__(self, front):
        self.front = front
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.front.note(data)
        asyncio.get_running_loop().create_task(self.forward(data, addr))

    async def forward(self, data, addr):
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.front.delay())
        done = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: UpstreamReply(data, done), remote_addr=self.front.upstream)
        try:
            reply = await asyncio.wait_for(done, 5)
            self.transport.sendto(reply, addr)
        except (asyncio.TimeoutError, OSError):
            pass
        finally:
            transport.close()


async def tcp_client(front, reader, writer):
    """One TCP client: length-prefixed queries, each delayed and relayed."""
    try:
        while True:
            size = struct.unpack("!H", await reader.readexactly(2))[0]
            query = await reader.readexactly(size)
            front.note(query)
            await asyncio.sleep(front.delay())
            up_r, up_w = await asyncio.open_connection(*front.upstream)
            up_w.write(struct.pack("!H", size) + query)
            await up_w.drain()
            rsize = struct.unpack("!H", await up_r.readexactly(2))[0]
            reply = await up_r.readexactly(rsize)
            up_w.close()
            writer.write(struct.pack("!H", rsize) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, OSError):
        pass
    finally:
        writer.close()


async def main(argv):
    addr, port, up_addr, up_port, delay_file, log_path = argv
    front = Front((up_addr, int(up_port)), delay_file, log_path)
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: UdpFront(front),
                                        local_addr=(addr, int(port)))
    server = await asyncio.start_server(
        lambda r, w: tcp_client(front, r, w), addr, int(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1:]))
