#!/usr/bin/python3
"""test_spf_conformance - spf_record against the RFC 7208 test suite.

Walks the openspf.org RFC 7208 test suite (rfc7208-tests.yml) in place and
checks that spf_record's grammar verdict agrees with the suite wherever the
suite's expectation is about syntax.  The suite describes evaluations
(client IP, sender, zone data, expected result); spf_record only judges
record text, so every record in the zone data gets an expectation:

  not-spf   the text starts with "v=spf" but not with "v=spf1" and SP or
            the end (4.5): the suite treats these as no record at all.
  invalid   the record named by a test in SYNTAX below, whose permerror is
            a syntax error in that record.
  valid     the top-level record of every other test (pass, fail, softfail,
            neutral, none, temperror, or a permerror listed in EVALUATION
            because it comes from evaluation, not syntax), and every record
            reached from one by include:/redirect= (literal targets, and
            %{d}/%{dN} expanded with the current domain).
  either    the suite accepts permerror or a result for the test.
  inspected records no test reaches: type SPF (99) records that a TXT
            record at the same name shadows (RFC 7208 uses TXT only; the
            suite says drivers copy SPF to TXT only when no TXT is given),
            and the few in BY_INSPECTION; all are valid by reading.

Explanation strings (the TXT an exp= names) are checked separately with
spf_record_explain_check: invalid only where a test says the explanation
is ignored for its syntax (EXPLAIN_INVALID).

Every permerror test must be classified in SYNTAX or EVALUATION, so a new
suite release cannot slip a case past this walker unread.

Usage: test_spf_conformance.py LINT [SUITE]
  LINT   the spf_record_lint helper
  SUITE  rfc7208-tests.yml; default $RELAYGATE_SPF_SUITE, else
         $RELAYGATE_SOURCE_DIR/../shared/conformance/spf/rfc7208-tests.yml
Needs PyYAML (Debian: python3-yaml).
"""

import os
import subprocess
import sys

import yaml

# Tests whose permerror is a syntax error, and the record(s) that have it
# (None: the test's own top-level record).
SYNTAX = {
    "non-ascii-policy": None,
    "non-ascii-mech": None,
    "non-ascii-result": None,
    "control-char-policy": None,
    "detect-errors-anywhere": None,
    "modifier-charset-bad1": None,
    "modifier-charset-bad2": None,
    "redirect-is-modifier": None,
    "invalid-domain": None,
    "all-dot": None,
    "all-arg": None,
    "all-cidr": None,
    "ptr-cidr": None,
    "ptr-empty-domain": None,
    "a-bad-cidr4": None,
    "a-bad-cidr6": None,
    "a-dual-cidr-ip4-err": None,
    "a-bad-domain": None,
    "a-null": None,
    "a-numeric": None,
    "a-numeric-toplabel": None,
    "a-bad-toplabel": None,
    "a-only-toplabel": None,
    "a-only-toplabel-trailing-dot": None,
    "a-empty-domain": None,
    # e5 includes e6, whose "include" has no domain: e5 itself is valid.
    "include-permerror": ["e6.example.com"],
    "include-syntax-error": None,
    "include-cidr": None,
    "include-empty-domain": None,
    "mx-bad-cidr4": None,
    "mx-bad-cidr6": None,
    "mx-bad-domain": None,
    "mx-null": None,
    "mx-numeric-top-label": None,
    "mx-bad-toplab": None,
    "mx-empty-domain": None,
    "exists-empty-domain": None,
    "exists-implicit": None,
    "exists-cidr": None,
    "cidr4-33": None,
    "cidr4-032": None,
    "bare-ip4": None,
    "bad-ip4-port": None,
    "bad-ip4-short": None,
    "ip4-dual-cidr": None,
    "bare-ip6": None,
    "cidr6-129": None,
    "cidr6-bad": None,
    "ip6-bad1": None,
    "redirect-syntax-error": None,
    "invalid-modifier": None,
    "empty-modifier-name": None,
    "exp-empty-domain": None,
    "exp-syntax-error": None,
    "exp-twice": None,
    "redirect-empty-domain": None,
    "redirect-twice": None,
    "unknown-modifier-syntax": None,
    "exp-only-macro-char": None,
    "invalid-macro-char": None,
    "invalid-embedded-macro-char": None,
    "invalid-trailing-macro-char": None,
    "undef-macro": None,
}

# Tests whose permerror (or permerror among the accepted results) comes
# from evaluation: their records are well-formed.  Deliberately excluded
# from the "invalid" side, with the reason.
EVALUATION = {
    "multitxt1": "two v=spf1 records at one name (4.5), each well-formed",
    "multitxt2": "two v=spf1 records at one name (4.5), each well-formed",
    "multispf1": "two v=spf1 records at one name (4.5), each well-formed",
    "include-none": "include: target has no SPF record (5.2)",
    "redirect-none": "redirect= target has no SPF record (6.1)",
    "redirect-loop": "redirect loop hits the lookup limit (4.6.4)",
    "include-loop": "include loop hits the lookup limit (4.6.4)",
    "mx-limit": "more than 10 MX names (4.6.4)",
    "mech-over-limit": "11 DNS-querying terms in one evaluation (4.6.4)",
    "include-over-limit": "11 DNS-querying terms with the include (4.6.4)",
    "void-over-limit": "more than 2 void lookups (4.6.4)",
}

# Records no test reaches, valid by reading.
BY_INSPECTION = {
    ("Initial processing", "a.example.net"):
        "same text as example.net's record; no test sends from it",
}

# Explanation strings a test says are ignored because of their syntax.
EXPLAIN_INVALID = {
    "e13msg.example.com": "explanation-syntax-error: %{x} is no macro",
    "badexp.example.com": "non-ascii-exp: non-ASCII explanation",
}

# exp= targets the suite reaches through macros (the walker only follows
# literal exp= targets by itself).
EXP_MACRO_TARGETS = {
    "40.218.168.192.example.com",  # exp=%{ir}.example.com
    "msg8.example.com",  # exp=msg8.%{D2}
    # exp=foobar.%{o} (eight times).example.com, cut to 253 bytes (7.3)
    ".".join(["somewhat.long.exp.example.com"] * 8 + ["example.com"]),
}

# dns_terms as RFC 7208 4.6.4 counts them, where a test is about the count.
DNS_TERMS = {"mech-at-limit": 10, "mech-over-limit": 11}


def as_bytes(text):
    """The suite writes raw bytes as \\xNN escapes in YAML strings."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def rr_strings(value):
    """A TXT value: one string, or character-strings joined (3.3)."""
    if isinstance(value, list):
        return b"".join(as_bytes(v) for v in value)
    return as_bytes(value)


def is_spf(data):
    return data[:6].lower() == b"v=spf1" and (len(data) == 6 or data[6:7] == b" ")


class Zone:
    """One scenario's zone data: TXT as RFC 7208 sees it, SPF shadowed."""

    def __init__(self, zonedata):
        self.txt = {}  # name -> [bytes]: the effective TXT RRset
        self.shadowed = {}  # name -> [bytes]: type SPF hidden by TXT
        for name, rrs in zonedata.items():
            name = name.lower()
            txt, spf = [], []
            for rr in rrs:
                if isinstance(rr, dict):
                    for kind, value in rr.items():
                        if kind == "TXT":
                            txt.append(rr_strings(value))
                        elif kind == "SPF":
                            spf.append(rr_strings(value))
            self.txt[name] = txt if txt else spf
            self.shadowed[name] = spf if txt else []

    def records(self, name):
        return [r for r in self.txt.get(name, []) if is_spf(r)]


def expand(target, domain):
    """%{d} and %{dN} with the current domain; None if other macros."""
    labels = domain.split(".")
    out = target
    for n in range(9, 0, -1):
        out = out.replace("%%{d%d}" % n, ".".join(labels[-n:]))
    out = out.replace("%{d}", domain)
    if "%" in out:
        return None
    return out.rstrip(".").lower()


def targets(record, domain):
    """Names an evaluation of record may fetch next (include, redirect)."""
    found = []
    for term in record.decode("latin-1").split(" "):
        low = term.lstrip("+-~?")
        for prefix in ("include:", "redirect="):
            if low.lower().startswith(prefix):
                name = expand(low[len(prefix):], domain)
                if name:
                    found.append(name)
    return found


class Walker:
    def __init__(self, docs):
        self.docs = docs
        self.expect = {}  # (scenario, name, data) -> set of verdicts
        self.source = {}  # key -> where the expectation came from
        self.errors = []

    def want(self, key, verdict, source):
        self.expect.setdefault(key, set()).add(verdict)
        self.source.setdefault(key, source)

    def reach(self, scen, zone, name, source, seen):
        """Mark the records at name valid and follow include/redirect."""
        if name in seen:
            return
        seen.add(name)
        for rec in zone.records(name):
            self.want((scen, name, rec), "valid", source)
            for nxt in targets(rec, name):
                self.reach(scen, zone, nxt, source, seen)

    def test(self, scen, zone, name, t):
        sender = t.get("mailfrom") or ""
        top = (sender.rsplit("@", 1)[1] if sender else t["helo"]).lower()
        results = t["result"] if isinstance(t["result"], list) else [t["result"]]
        source = "test %s" % name
        if name in SYNTAX:
            bad = SYNTAX[name] or [top]
            for dom in bad:
                for rec in zone.records(dom):
                    self.want((scen, dom, rec), "invalid", source)
            if top not in bad:
                for rec in zone.records(top):
                    self.want((scen, top, rec), "valid", source)
        elif name in EVALUATION or "permerror" not in results:
            self.reach(scen, zone, top, source, set())
        elif results == ["permerror"]:
            self.errors.append("permerror test %s is in neither SYNTAX "
                               "nor EVALUATION" % name)
        else:
            for rec in zone.records(top):
                self.want((scen, top, rec), "either", source)

    def collect(self):
        names = set()
        for doc in self.docs:
            scen = doc["description"]
            zone = Zone(doc["zonedata"])
            for name, t in doc["tests"].items():
                if name in names:
                    self.errors.append("test name %s twice" % name)
                names.add(name)
                self.test(scen, zone, name, t)
            self.rest(scen, zone)
        for name in list(SYNTAX) + list(EVALUATION) + list(DNS_TERMS):
            if name not in names:
                self.errors.append("table names unknown test %s" % name)

    def rest(self, scen, zone):
        """Records no test reached, and the version edge cases."""
        for name in zone.txt:
            for data in zone.txt[name] + zone.shadowed[name]:
                key = (scen, name, data)
                if not data[:5].lower() == b"v=spf" or key in self.expect:
                    continue
                if not is_spf(data):
                    self.want(key, "not-spf", "version rule (4.5)")
                elif data in zone.shadowed[name]:
                    self.want(key, "valid", "inspected: type SPF shadowed")
                elif (scen, name) in BY_INSPECTION:
                    self.want(key, "valid", "inspected: " +
                              BY_INSPECTION[(scen, name)])
                else:
                    self.errors.append("no expectation for %s %r" % (name, data))


def lint(helper, items, explain=False):
    args = [helper, "-x"] + (["-e"] if explain else [])
    out = subprocess.run(args, input="".join(d.hex() + "\n" for d in items),
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    if len(lines) != len(items):
        sys.exit("lint helper gave %d answers for %d inputs" % (len(lines), len(items)))
    return lines


def check_records(walker, helper):
    keys = sorted(walker.expect, key=repr)
    answers = lint(helper, [k[2] for k in keys])
    tally, bad = {}, 0
    for key, answer in zip(keys, answers):
        want = walker.expect[key]
        if len(want) > 1:
            want.discard("either")
        if len(want) > 1:
            walker.errors.append("conflicting expectations %s for %s" % (want, key))
            continue
        want = want.pop()
        got = answer.split(" ", 1)[0]
        ok = got == want or (want == "either" and got in ("valid", "invalid"))
        kind = walker.source[key].split(":")[0].split(" ")[0]
        tally.setdefault((kind, want), [0, 0])
        tally[(kind, want)][0] += 1
        tally[(kind, want)][1] += ok
        if not ok:
            bad += 1
            print("DISAGREE %s %s %r: want %s, got %s (%s)" %
                  (key[0], key[1], key[2], want, answer, walker.source[key]))
    return keys, answers, tally, bad


def check_dns_terms(walker, docs, keys, answers):
    by_key = dict(zip(keys, answers))
    for doc in docs:
        for name, count in DNS_TERMS.items():
            t = doc["tests"].get(name)
            if t is None:
                continue
            top = t["mailfrom"].rsplit("@", 1)[1].lower()
            for rec in Zone(doc["zonedata"]).records(top):
                got = by_key[(doc["description"], top, rec)].split()
                if got[0] != "valid" or int(got[2]) != count:
                    walker.errors.append("%s: dns_terms %s, want %d" %
                                         (name, got, count))


def check_explanations(docs, helper):
    items = []
    for doc in docs:
        zone = Zone(doc["zonedata"])
        exp_names = set(EXP_MACRO_TARGETS)
        for name, rrs in zone.txt.items():
            for rec in rrs:
                if not is_spf(rec):
                    continue
                for term in rec.decode("latin-1").split(" "):
                    if term.lower().startswith("exp=") and "%" not in term:
                        exp_names.add(term[4:].rstrip(".").lower())
        for name in sorted(exp_names):
            for data in zone.txt.get(name, []):
                want = "invalid" if name in EXPLAIN_INVALID else "valid"
                items.append((name, data, want))
    answers = lint(helper, [i[1] for i in items], explain=True)
    bad = 0
    for (name, data, want), answer in zip(items, answers):
        if answer.split(" ", 1)[0] != want:
            bad += 1
            print("DISAGREE explanation %s %r: want %s, got %s" %
                  (name, data, want, answer))
    return len(items), bad


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    suite = sys.argv[2] if len(sys.argv) > 2 else os.environ.get(
        "RELAYGATE_SPF_SUITE", os.path.join(
            os.environ.get("RELAYGATE_SOURCE_DIR", "."), "..", "shared",
            "conformance", "spf", "rfc7208-tests.yml"))
    with open(suite, "rb") as f:
        docs = list(yaml.safe_load_all(f))
    walker = Walker(docs)
    walker.collect()
    keys, answers, tally, bad = check_records(walker, sys.argv[1])
    check_dns_terms(walker, docs, keys, answers)
    nexp, badexp = check_explanations(docs, sys.argv[1])

    print("suite: %s (%d scenarios, %d tests)" %
          (suite, len(docs), sum(len(d["tests"]) for d in docs)))
    print("records checked: %d, agree: %d" % (len(keys), len(keys) - bad))
    for (kind, want), (n, ok) in sorted(tally.items()):
        print("  %-10s expected %-8s %3d, agree %3d" % (kind, want, n, ok))
    print("explanation strings checked: %d, agree: %d" % (nexp, nexp - badexp))
    print("permerror tests excluded as evaluation, not syntax:")
    for name, why in sorted(EVALUATION.items()):
        print("  %-20s %s" % (name, why))
    for e in walker.errors:
        print("ERROR", e)
    return 1 if bad or badexp or walker.errors else 0


if __name__ == "__main__":
    sys.exit(main())
