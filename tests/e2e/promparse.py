#!/usr/bin/python3
"""promparse.py - a strict parser of the Prometheus text exposition format
(0.0.4), for the e2e tests (promtool is not available).

Usage: promparse.py FILE [EXPECT...]
       promparse.py --selftest   (the parser refuses known-bad texts)
  Parses FILE and exits 1 with the first problem, naming the line, if it is
  not valid; else prints one line per sample, "NAME{LABELS} VALUE" with the
  labels sorted, and checks each EXPECT:
    'SERIES OP NUMBER'   SERIES is NAME or NAME{k="v",...} (labels in any
                         order), OP one of == != >= <= > <
    'family NAME TYPE'   the family is declared with this TYPE
  Exit status: 0 valid and every EXPECT holds, 1 otherwise.

What "strict" means here (the format as Prometheus documents it, plus the
rules promtool's linter adds):
  - every line ends with \n, including the last; no empty lines; no \r;
  - "# HELP name text" and "# TYPE name type" at most once per family,
    HELP and TYPE before the family's first sample, TYPE one of counter,
    gauge, histogram, summary, untyped; other "#" lines are comments;
  - names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
    [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__", label values are
    double-quoted with only \\, \" and \n escapes, no duplicate label;
  - values are floats (Go's ParseFloat: decimal, exponent, NaN, +Inf,
    -Inf), an optional timestamp is an integer;
  - a family's samples are contiguous (no interleaving of families);
  - each series (name + labels) appears once;
  - a counter's samples have the family name (optionally _total) and are
    not negative; a gauge's have the family name;
  - a histogram's samples are NAME_bucket (with an "le" label), NAME_sum
    and NAME_count; per label set its buckets have increasing le, are
    cumulative (non-decreasing), end with le="+Inf", and that bucket
    equals NAME_count;
  - counters named *_total, as the linter wants.
"""

import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf|NaN)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class ParseError(Exception):
    pass


def parse_float(text, where):
    if not FLOAT.match(text):
        raise ParseError(f"{where}: '{text}' is not a float")
    return float(text.replace("Inf", "inf").replace("NaN", "nan"))


def parse_labels(text, pos, where):
    """The label set starting after '{' at pos; returns (dict, end)."""
    labels = {}
    while True:
        if text.startswith("}", pos):
            return labels, pos + 1
        m = LABEL.match(text, pos)
        if not m:
            raise ParseError(f"{where}: bad label name at column {pos + 1}")
        name = m.group(0)
        if name.startswith("__"):
            raise ParseError(f"{where}: reserved label name {name}")
        if name in labels:
            raise ParseError(f"{where}: label {name} twice")
        pos = m.end()
        if not text.startswith('="', pos):
            raise ParseError(f"{where}: expected =\" after {name}")
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise ParseError(f"{where}: unterminated label value")
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ParseError(f"{where}: bad escape \\{nxt}")
                value.append("\n" if nxt == "n" else nxt)
                pos += 2
            elif c == '"':
                pos += 1
                break
            else:
                value.append(c)
                pos += 1
        labels[name] = "".join(value)
        if text.startswith(",", pos):
            pos += 1
            if text.startswith("}", pos):
                return labels, pos + 1
        elif not text.startswith("}", pos):
            raise ParseError(f"{where}: expected , or }} after a label")


def parse_sample(line, where):
    m = NAME.match(line)
    if not m:
        raise ParseError(f"{where}: bad metric name")
    name, pos, labels = m.group(0), m.end(), {}
    if line.startswith("{", pos):
        labels, pos = parse_labels(line, pos + 1, where)
    if not line.startswith(" ", pos):
        raise ParseError(f"{where}: expected one space before the value")
    rest = line[pos + 1:].split(" ")
    if len(rest) not in (1, 2) or "" in rest:
        raise ParseError(f"{where}: expected VALUE [TIMESTAMP]")
    value = parse_float(rest[0], where)
    if len(rest) == 2 and not re.fullmatch(r"-?[0-9]+", rest[1]):
        raise ParseError(f"{where}: bad timestamp {rest[1]}")
    return name, labels, value


def family_of(name, families):
    """The declared family a sample name belongs to."""
    if name in families:
        return name
    for suffix in ("_bucket", "_sum", "_count", "_total"):
        if name.endswith(suffix) and name[:-len(suffix)] in families:
            return name[:-len(suffix)]
    return None


def check_sample_name(fam, ftype, name, labels, value, where):
    if ftype == "counter":
        if name not in (fam, fam + "_total") or value < 0:
            raise ParseError(f"{where}: bad counter sample {name}")
        if not fam.endswith("_total"):
            raise ParseError(f"{where}: counter {fam} is not named *_total")
    elif ftype == "gauge" and name != fam:
        raise ParseError(f"{where}: gauge sample {name} of {fam}")
    elif ftype == "histogram":
        if name == fam + "_bucket":
            if "le" not in labels:
                raise ParseError(f"{where}: bucket without le")
            parse_float(labels["le"], where)
        elif name not in (fam + "_sum", fam + "_count"):
            raise ParseError(f"{where}: {name} in histogram {fam}")


def check_histograms(samples, families):
    for fam, ftype in families.items():
        if ftype["type"] != "histogram":
            continue
        groups = {}
        for (name, key), value in samples.items():
            if family_of(name, families) != fam:
                continue
            rest = tuple(kv for kv in key if kv[0] != "le")
            g = groups.setdefault(rest, {"buckets": [], "count": None})
            if name == fam + "_bucket":
                le = dict(key)["le"]
                g["buckets"].append((parse_float(le, fam), value))
            elif name == fam + "_count":
                g["count"] = value
        if not groups:
            raise ParseError(f"histogram {fam} has no samples")
        for rest, g in groups.items():
            b = g["buckets"]
            if not b or not math.isinf(b[-1][0]):
                raise ParseError(f"histogram {fam}{rest}: no +Inf bucket")
            for (le1, v1), (le2, v2) in zip(b, b[1:]):
                if le2 <= le1 or v2 < v1:
                    raise ParseError(
                        f"histogram {fam}{rest}: buckets not increasing "
                        f"and cumulative at le={le2}")
            if g["count"] is None or g["count"] != b[-1][1]:
                raise ParseError(f"histogram {fam}{rest}: _count "
                                 f"{g['count']} != +Inf bucket {b[-1][1]}")


def parse_comment(line, where, families, current):
    parts = line.split(" ", 3)
    if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
        return current  # a plain comment
    kind, name = parts[1], parts[2]
    if not NAME.fullmatch(name):
        raise ParseError(f"{where}: bad family name {name}")
    fam = families.setdefault(name, {"type": "untyped", "help": None,
                                     "typed": False, "started": False})
    if fam["started"]:
        raise ParseError(f"{where}: {kind} of {name} after its samples")
    if kind == "HELP":
        if fam["help"] is not None:
            raise ParseError(f"{where}: second HELP of {name}")
        fam["help"] = parts[3] if len(parts) > 3 else ""
    else:
        if fam["typed"] or len(parts) != 4 or parts[3] not in TYPES:
            raise ParseError(f"{where}: bad or second TYPE of {name}")
        fam["type"], fam["typed"] = parts[3], True
    return current


def parse(text):
    if not text.endswith("\n"):
        raise ParseError("the text does not end with a newline")
    families, samples, done, current = {}, {}, set(), None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {n}"
        if line == "" or "\r" in line:
            raise ParseError(f"{where}: empty line or CR")
        if line.startswith("#"):
            current = parse_comment(line, where, families, current)
            continue
        name, labels, value = parse_sample(line, where)
        fam = family_of(name, families)
        if fam is None:
            raise ParseError(f"{where}: {name} has no HELP/TYPE before it")
        f = families[fam]
        if f["help"] is None or not f["typed"]:
            raise ParseError(f"{where}: family {fam} lacks HELP or TYPE")
        if fam != current:
            if fam in done:
                raise ParseError(f"{where}: samples of {fam} interleaved")
            if current is not None:
                done.add(current)
            current = fam
        f["started"] = True
        check_sample_name(fam, f["type"], name, labels, value, where)
        key = (name, tuple(sorted(labels.items())))
        if key in samples:
            raise ParseError(f"{where}: series {name}{labels} twice")
        samples[key] = value
    check_histograms(samples, families)
    return families, samples


def series_text(name, key):
    if not key:
        return name
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in key) + "}"


def check_expect(expect, families, samples):
    m = re.fullmatch(r"family (\S+) (\S+)", expect)
    if m:
        fam = families.get(m.group(1))
        return fam is not None and fam["type"] == m.group(2)
    m = re.fullmatch(r"(\S+?)(\{.*\})? (==|!=|>=|<=|>|<) (\S+)", expect)
    if not m:
        raise ParseError(f"cannot read the expectation '{expect}'")
    labels = {}
    if m.group(2):
        labels, _ = parse_labels(m.group(2), 1, expect)
    key = (m.group(1), tuple(sorted(labels.items())))
    if key not in samples:
        print(f"no series {expect.split(' ')[0]}", file=sys.stderr)
        return False
    a, b = samples[key], float(m.group(4))
    return {"==": a == b, "!=": a != b, ">=": a >= b, "<=": a <= b,
            ">": a > b, "<": a < b}[m.group(3)]


GOOD = """# HELP a_total A.
# TYPE a_total counter
a_total{x="1"} 3
# HELP h H.
# TYPE h histogram
h_bucket{le="0.5"} 1
h_bucket{le="+Inf"} 2
h_sum 0.7
h_count 2
"""

BAD = [
    GOOD[:-1],                                        # no final newline
    GOOD.replace("# HELP a_total A.\n", ""),           # no HELP
    GOOD.replace("counter", "countr"),                # bad TYPE
    GOOD.replace('a_total{x="1"} 3', 'a_total{x="1"} -3'),
    GOOD.replace('a_total{x="1"} 3', 'a_total{x="1",x="2"} 3'),
    GOOD.replace('a_total{x="1"} 3', 'a_total{x="1"}  3'),
    GOOD.replace('a_total{x="1"} 3', 'a_total{x=1} 3'),
    GOOD.replace('a_total{x="1"} 3', 'a_total{x="\\q"} 3'),
    GOOD.replace('a_total{x="1"} 3', 'a_total{x="1"} three'),
    GOOD.replace('a_total{x="1"} 3', 'a_total{x="1"} 3\na_total{x="1"} 4'),
    GOOD.replace("h_count 2", "h_count 3"),           # count != +Inf
    GOOD.replace('h_bucket{le="+Inf"} 2', 'h_bucket{le="+Inf"} 0'),
    GOOD.replace('h_bucket{le="+Inf"} 2\n', ""),       # no +Inf
    GOOD + 'a_total{x="2"} 1\n',                       # interleaved
    GOOD.replace("h_sum 0.7\n", "h_sum 0.7\n\n"),      # empty line
    GOOD.replace("a_total", "a").replace("# HELP a A", "# HELP a A"),
]


def selftest():
    parse(GOOD)
    for i, text in enumerate(BAD):
        try:
            parse(text)
        except ParseError:
            continue
        print(f"promparse: selftest: bad text #{i} was accepted",
              file=sys.stderr)
        return 1
    print("promparse: selftest: ok")
    return 0


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        families, samples = parse(text)
        failed = [e for e in sys.argv[2:]
                  if not check_expect(e, families, samples)]
    except ParseError as e:
        print(f"promparse: {sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    for (name, key), value in sorted(samples.items()):
        print(f"{series_text(name, key)} {value:g}")
    for e in failed:
        print(f"promparse: {sys.argv[1]}: expectation failed: {e}",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
