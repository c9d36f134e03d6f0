#!/usr/bin/python3
"""dkimtool.py - sign or verify a message with python3-dkim, DNS from the world.

Usage: dkimtool.py sign -d DOMAIN -s SELECTOR -k KEY.pem < msg > signed
       dkimtool.py verify [-r RESOLVER] < msg

The independent DKIM implementation of the test world.  "sign" adds an
rsa-sha256 DKIM-Signature (relaxed/relaxed) with the PEM key; it exists to
prove the world's published keys are usable.  "verify" checks every
DKIM-Signature of the message, fetching keys from RESOLVER (default
127.0.0.1, the world's unbound, so a selector CNAME is followed), and
prints one line per signature:

    DKIM <pass|fail> d=<domain> s=<selector> a=<algorithm>

then exits 0 when there is at least one signature and all pass, else 1
(a message without a signature prints "DKIM none").
"""

import argparse
import sys

import dkim
import dns.exception
import dns.resolver


def make_dnsfunc(server):
    """A dkimpy dnsfunc asking the world's resolver for TXT records."""
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [server]

    def dnsfunc(name, timeout=5):
        res.lifetime = timeout
        name = name.decode() if isinstance(name, bytes) else name
        try:
            ans = res.resolve(name, "TXT", search=False)
        except dns.exception.DNSException:
            return None
        return b"".join(ans[0].strings)
    return dnsfunc


def cmd_sign(args, msg):
    """Print msg with a DKIM-Signature prepended."""
    with open(args.key, "rb") as f:
        key = f.read()
    sig = dkim.sign(msg, args.selector.encode(), args.domain.encode(), key,
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id"],
                    linesep=b"\r\n" if b"\r\n" in msg else b"\n")
    sys.stdout.buffer.write(sig + msg)
    return 0


def cmd_verify(args, msg):
    """Verify every signature; 0 only if there is one and all pass."""
    d = dkim.DKIM(msg)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    if not sigs:
        print("DKIM none")
        return 1
    ok = True
    for i, sig in enumerate(sigs):
        tags = dkim.util.parse_tag_value(b"".join(sig.split()))
        try:
            passed = dkim.DKIM(msg).verify(
                idx=i, dnsfunc=make_dnsfunc(args.resolver))
        except dkim.ValidationError as e:  # e.g. "body hash mismatch"
            print("# %s" % e, file=sys.stderr)
            passed = False
        ok = ok and passed
        print("DKIM %s d=%s s=%s a=%s" % (
            "pass" if passed else "fail", tags.get(b"d", b"").decode(),
            tags.get(b"s", b"").decode(), tags.get(b"a", b"").decode()))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description="DKIM sign/verify")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sign")
    s.add_argument("-d", "--domain", required=True)
    s.add_argument("-s", "--selector", required=True)
    s.add_argument("-k", "--key", required=True)
    v = sub.add_parser("verify")
    v.add_argument("-r", "--resolver", default="127.0.0.1")
    args = ap.parse_args()
    msg = sys.stdin.buffer.read()
    return cmd_sign(args, msg) if args.cmd == "sign" else \
        cmd_verify(args, msg)


if __name__ == "__main__":
    sys.exit(main())
