#!/usr/bin/python3
"""dnswait.py - wait until an authoritative server serves given SOA serials.

Usage: dnswait.py SERVER SECONDS ZONE=SERIAL...

Asks SERVER:53 (no recursion) for each ZONE's SOA every 50 ms until the
serial is SERIAL for all of them, or SECONDS have passed.  nsd loads zone
files in the background after a start or "nsd-control reload", so this is
how world.sh knows a zone change is live.  Exit status 0 when all are
served, 1 on timeout (the zones still missing are printed on stderr).
"""

import sys
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode


def serial_of(server, zone):
    """The SOA serial SERVER gives authoritatively for zone, or None."""
    query = dns.message.make_query(zone, "SOA")
    query.flags &= ~dns.flags.RD
    try:
        msg = dns.query.udp(query, server, timeout=0.5)
    except (dns.exception.DNSException, OSError):
        return None
    if msg.rcode() != dns.rcode.NOERROR or not msg.flags & dns.flags.AA:
        return None
    for rrset in msg.answer:
        for rdata in rrset:
            if hasattr(rdata, "serial"):
                return rdata.serial
    return None


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: dnswait.py SERVER SECONDS ZONE=SERIAL...")
    server, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
    want = dict(a.rsplit("=", 1) for a in sys.argv[3:])
    while True:
        want = {z: s for z, s in want.items()
                if serial_of(server, z) != int(s)}
        if not want:
            return 0
        if time.monotonic() > deadline:
            print("not served: " + " ".join("%s=%s" % kv
                                            for kv in want.items()),
                  file=sys.stderr)
            return 1
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
