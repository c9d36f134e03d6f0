#!/usr/bin/python3
"""dkim_verify - verify the topmost DKIM signature of a message with
python3-dkim (dkimpy), an implementation independent of libopendkim.

The key record comes from a file instead of DNS (dkimpy's dnsfunc hook),
so no resolver is involved.

usage: dkim_verify.py MESSAGE RECORD [NAME]

  MESSAGE  the signed message, CRLF or LF line ends
  RECORD   the TXT record text ("v=DKIM1; k=rsa; p=...")
  NAME     if given, the record is only served for this name
           ("sel._domainkey.example.nl"); other lookups get nothing

Exit status: 0 the signature verifies, 1 it does not (reason on stderr),
2 usage or environment error (e.g. python3-nacl missing for Ed25519).
Run it with /usr/bin/python3: Debian's python3-dkim lives there.
"""

import logging
import sys


def main(argv):
    if len(argv) not in (3, 4):
        print("usage: dkim_verify.py MESSAGE RECORD [NAME]", file=sys.stderr)
        return 2
    try:
        import dkim
        import nacl.signing  # noqa: F401  (ed25519-sha256 needs it)
    except ImportError as e:
        print("dkim_verify: %s (install python3-dkim, python3-nacl)" % e,
              file=sys.stderr)
        return 2

    with open(argv[1], "rb") as f:
        message = f.read()
    with open(argv[2], "rb") as f:
        record = f.read().strip()
    wanted = argv[3].rstrip(".").lower() if len(argv) == 4 else None
    asked = []

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii", "replace")
        asked.append(name)
        if wanted is not None and name.rstrip(".").lower() != wanted:
            return None
        return record

    logging.basicConfig(stream=sys.stderr, level=logging.ERROR,
                        format="dkim_verify: dkimpy: %(message)s")
    verifier = dkim.DKIM(message, logger=logging.getLogger("dkimpy"),
                         minkey=1024)
    try:
        ok = verifier.verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        print("dkim_verify: %s" % e, file=sys.stderr)
        return 1
    except Exception as e:  # e.g. nacl refusing an RSA-sized signature
        print("dkim_verify: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    if not ok:
        print("dkim_verify: signature does not verify (asked for %s)"
              % ", ".join(asked), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
