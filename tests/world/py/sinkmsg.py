#!/usr/bin/python3
"""sinkmsg.py - a message as smtp-sink received it, without the sink's additions.

Usage: sinkmsg.py [--envelope | --headers | --body] FILE

smtp-sink -d writes, per message (see world.sh, world_sink_start):
    X-Client-Addr: / X-Client-Proto: / X-Helo-Args: / X-Mail-Args: /
    X-Rcpt-Args: (one per RCPT) lines, then a three-line "Received: from
    HELO ([ADDR]) / by HOST (smtp-sink) with PROTO id ID; / DATE" header,
    then the message as received, then one empty line.
Default output: the message exactly as the relay sent it (what a DKIM
verifier must see).  --envelope prints "client ADDR", "helo ARGS",
"mail ARGS" and one "rcpt ARGS" per recipient; --headers only the
message's header block; --body only its body.
"""

import sys

ENVELOPE = {b"X-Client-Addr: ": b"client", b"X-Helo-Args: ": b"helo",
            b"X-Mail-Args: ": b"mail", b"X-Rcpt-Args: ": b"rcpt"}


def split_dump(data):
    """Return (envelope lines, message bytes) of one dump file."""
    lines = data.split(b"\n")
    envelope, i = [], 0
    while i < len(lines) and lines[i].startswith(b"X-"):
        for prefix, word in ENVELOPE.items():
            if lines[i].startswith(prefix):
                envelope.append(word + b" " + lines[i][len(prefix):])
        i += 1
    if i < len(lines) and lines[i].startswith(b"Received: "):
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    message = b"\n".join(lines[i:])
    if message.endswith(b"\n\n"):   # the sink's trailing empty line
        message = message[:-1]
    return envelope, message


def main():
    args = sys.argv[1:]
    mode = args.pop(0) if len(args) == 2 else "--message"
    if len(args) != 1 or mode not in ("--message", "--envelope",
                                      "--headers", "--body"):
        sys.exit("usage: sinkmsg.py [--envelope | --headers | --body] FILE")
    with open(args[0], "rb") as f:
        envelope, message = split_dump(f.read())
    head, _, body = message.partition(b"\n\n")
    out = {"--message": message, "--headers": head + b"\n", "--body": body,
           "--envelope": b"".join(e + b"\n" for e in envelope)}[mode]
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main()
