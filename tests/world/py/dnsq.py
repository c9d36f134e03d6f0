#!/usr/bin/python3
"""dnsq.py - one DNS question, answer printed in a grep-friendly form.

Usage: dnsq.py [-s SERVER] [-p PORT] [-t SECONDS] [--norec] NAME TYPE

Asks SERVER (default 127.0.0.1, the world's recursive unbound) and prints

    STATUS <NOERROR|NODATA|NXDOMAIN|SERVFAIL|TIMEOUT|REFUSED|...>
    <TYPE> <owner> <rdata>        one line per record of the answer

in answer order, so a CNAME chain comes first.  TXT rdata is printed as
its character-strings joined and unquoted (what SPF and DKIM read).
NODATA means the name exists but has no record of TYPE.  With --norec the
question goes to an authoritative server (no RD bit), e.g. to nsd on
127.0.0.2 to see which SOA serial it serves.  -t bounds the whole lookup
(default 2 s).  Exit status 0 whatever the DNS status; 2 on usage errors.
"""

import argparse

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver


def rdata_text(rdata):
    """TXT as the joined string, everything else as zone-file text."""
    if rdata.rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")
    return rdata.to_text()


def status_of(rcode, rrsets, rdtype):
    """Map an answer to the STATUS word (NODATA for an empty NOERROR)."""
    if rcode != dns.rcode.NOERROR:
        return dns.rcode.to_text(rcode)
    if not any(r.rdtype == rdtype for r in rrsets):
        return "NODATA"
    return "NOERROR"


def ask_recursive(args, rdtype):
    """Full resolution through a recursive server; returns (status, rrsets)."""
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [args.server]
    res.port = args.port
    res.lifetime = args.timeout
    res.timeout = args.timeout
    try:
        ans = res.resolve(args.name, rdtype, raise_on_no_answer=False,
                          search=False)
    except dns.resolver.NXDOMAIN:
        return "NXDOMAIN", []
    except dns.resolver.NoNameservers:
        return "SERVFAIL", []
    except dns.exception.Timeout:
        return "TIMEOUT", []
    msg = ans.response
    return status_of(msg.rcode(), msg.answer, rdtype), msg.answer


def ask_direct(args, rdtype):
    """One non-recursive question to one server; returns (status, rrsets)."""
    query = dns.message.make_query(args.name, rdtype)
    query.flags &= ~dns.flags.RD
    try:
        msg = dns.query.udp(query, args.server, port=args.port,
                            timeout=args.timeout)
    except dns.exception.Timeout:
        return "TIMEOUT", []
    return status_of(msg.rcode(), msg.answer, rdtype), msg.answer


def main():
    ap = argparse.ArgumentParser(description="one DNS question")
    ap.add_argument("-s", "--server", default="127.0.0.1")
    ap.add_argument("-p", "--port", type=int, default=53)
    ap.add_argument("-t", "--timeout", type=float, default=2.0)
    ap.add_argument("--norec", action="store_true")
    ap.add_argument("name")
    ap.add_argument("type")
    args = ap.parse_args()
    rdtype = dns.rdatatype.from_text(args.type)
    ask = ask_direct if args.norec else ask_recursive
    status, rrsets = ask(args, rdtype)
    print("STATUS", status)
    for rrset in rrsets:
        for rdata in rrset:
            print(dns.rdatatype.to_text(rrset.rdtype), rrset.name,
                  rdata_text(rdata))


if __name__ == "__main__":
    main()
