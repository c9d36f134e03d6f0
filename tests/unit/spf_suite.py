#!/usr/bin/python3
"""spf_suite - the RFC 7208 test suite as lines for the spf_suite driver.

Reads the openspf.org suite (rfc7208-tests.yml) where it lies and writes,
for each scenario, its zone data in fake_dns's zone syntax and its tests,
so that the C driver needs no YAML.  Output lines:

  S DESCRIPTION                  a new scenario: forget the zone data
  Z NAME TYPE DATA               one record (fake_dns_load syntax, names
                                 absolute, bytes outside [A-Za-z0-9._*-]
                                 of names and of TXT strings as \\DDD)
  Z NAME TIMEOUT TYPE            queries for NAME and TYPE time out
  T NAME HOST FROM HELO RESULTS EXPLANATION
                                 one test: FROM, HELO and EXPLANATION hex
                                 encoded ("-" for empty or absent),
                                 RESULTS comma-separated
  E COUNT                        the end, with the number of tests

As the suite's preamble says, type SPF records stand in for TXT where a
name has no TXT records (RFC 7208 uses TXT only).  The suite writes raw
bytes as \\xNN escapes in YAML strings; they are passed on as bytes.

Usage: spf_suite.py SUITE  (Debian: python3-yaml)
"""

import sys

import yaml

NAME_OK = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_*")


def as_bytes(text):
    """A YAML string as the bytes the suite means."""
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def escape(data, keep):
    """Bytes as zone text: kept bytes literal, the rest \\DDD."""
    return "".join(chr(b) if b in keep else "\\%03d" % b for b in data)


def name(text):
    """A domain name of the zone data or of a record's target."""
    text = str(text)
    if text in ("", "."):
        return "."
    return escape(as_bytes(text), NAME_OK)


def txt_strings(value):
    """A TXT/SPF value (one string or a list of character-strings) as
    quoted zone strings of at most 255 bytes each."""
    parts = value if isinstance(value, list) else [value]
    keep = set(range(0x20, 0x7F)) - set(b'"\\')
    out = []
    for part in parts:
        data = as_bytes(part)
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        out.extend('"%s"' % escape(c, keep) for c in chunks)
    return " ".join(out)


def record_lines(owner, rrs):
    """The Z lines for one name of a scenario's zone data.  "TXT: NONE"
    is no TXT record (and keeps type SPF from standing in); TIMEOUT makes
    queries for the types without records at the name time out, as the
    suite's drivers do (spftimeout: TXT answers, type SPF times out)."""
    has_txt = any(isinstance(rr, dict) and "TXT" in rr for rr in rrs)
    lines, types = [], set()
    for rr in rrs:
        if not isinstance(rr, dict):
            continue
        for kind, value in rr.items():
            if kind == "TXT" and value == "NONE":
                continue
            types.add("TXT" if kind == "SPF" and not has_txt else kind)
            if kind in ("A", "AAAA"):
                lines.append("Z %s %s %s" % (owner, kind, value))
            elif kind == "MX":
                lines.append("Z %s MX %d %s" % (owner, value[0], name(value[1])))
            elif kind in ("PTR", "CNAME"):
                lines.append("Z %s %s %s" % (owner, kind, name(value)))
            elif kind == "TXT" or (kind == "SPF" and not has_txt):
                lines.append("Z %s TXT %s" % (owner, txt_strings(value)))
            elif kind != "SPF":
                sys.exit("unknown record type %s at %s" % (kind, owner))
    if "TIMEOUT" in rrs:
        for kind in ("A", "AAAA", "MX", "PTR", "TXT"):
            if kind not in types:
                lines.append("Z %s TIMEOUT %s" % (owner, kind))
    return lines


def hexed(value):
    if value is None or value == "":
        return "-"
    return as_bytes(value).hex()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        docs = list(yaml.safe_load_all(f))
    count = 0
    out = []
    for doc in docs:
        out.append("S %s" % doc["description"].replace("\n", " "))
        for owner, rrs in doc["zonedata"].items():
            out.extend(record_lines(name(owner), rrs))
        for test, t in doc["tests"].items():
            results = t["result"] if isinstance(t["result"], list) else [t["result"]]
            out.append("T %s %s %s %s %s %s" % (
                test, t["host"], hexed(t.get("mailfrom")), hexed(t.get("helo")),
                ",".join(results), hexed(t.get("explanation"))))
            count += 1
    out.append("E %d" % count)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
