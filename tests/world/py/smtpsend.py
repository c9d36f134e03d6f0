#!/usr/bin/python3
"""smtpsend.py - build one test message; send it by SMTP or print it.

Usage: smtpsend.py [options]        (see --help)

The message is built from --from/--to/--header-from/--subject/--header/
--body/--body-file, or taken as-is from --message-file.  A built message
carries a fresh token in its Message-ID (<TOKEN@world.test>) and in its body
("world-token: TOKEN"), so a test can find it again in the sink.

With --print the message goes to stdout and "TOKEN <token>" to stderr.
With --sendmail DIR it is submitted with "sendmail -C DIR -i -f FROM -- TO..."
(a Postfix instance's local submission) and the output is "TOKEN <token>"
then "RESULT submitted" (exit 0) or "RESULT error sendmail <status>" (2).
Otherwise it is sent to --host:--port and every reply is printed, one line
per step (with --pause-before-data the session waits after RCPT, creating
--ready-file first, so that a test can act while a session is open):

    TOKEN <token>
    CONNECT 220 <text>
    EHLO 250 <text>
    MAIL 250 <text>
    RCPT 250 <text>           (one per recipient)
    DATA 354 <text>
    DOT 250 <text>            (the reply to the final ".")
    RESULT accepted | RESULT refused <STEP> <code> | RESULT error <STEP> <why>

The conversation stops at the first reply that is not 2xx/3xx.  Exit status:
0 accepted, 1 refused (a 4xx/5xx reply), 2 error (connection failure,
timeout, disconnect).
"""

import argparse
import email.utils
import secrets
import smtplib
import subprocess
import sys
import time

DEFAULT_BODY = ("Hello from the relaygate test world.\n"
                ".A line that starts with a dot (dot-stuffing).\n"
                "world-token: {token}\n")


def parse_args():
    ap = argparse.ArgumentParser(description="send one test message")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--helo", default="client.world.test")
    ap.add_argument("--from", dest="sender", default="sender@good.test",
                    help="envelope sender (MAIL FROM)")
    ap.add_argument("--to", action="append", default=[],
                    help="recipient (repeatable)")
    ap.add_argument("--header-from", help="From: header (default --from)")
    ap.add_argument("--subject", default="relaygate world test")
    ap.add_argument("--header", action="append", default=[],
                    help="extra 'Name: value' header (repeatable)")
    ap.add_argument("--body", help="body text ({token} is replaced)")
    ap.add_argument("--body-file", help="file holding the body")
    ap.add_argument("--message-file", help="send this raw message as-is")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--pause-before-data", type=float, default=0.0,
                    metavar="SECONDS",
                    help="hold the session open after RCPT for SECONDS")
    ap.add_argument("--ready-file",
                    help="create this file when the pause begins")
    ap.add_argument("--print", action="store_true",
                    help="print the message instead of sending it")
    ap.add_argument("--sendmail", metavar="DIR",
                    help="submit with Postfix's sendmail -C DIR")
    args = ap.parse_args()
    args.to = args.to or ["rcpt@receiver.example"]
    return args


def build_message(args, token):
    """The message as bytes with CRLF line ends."""
    if args.message_file:
        with open(args.message_file, "rb") as f:
            raw = f.read()
    else:
        body = args.body if args.body is not None else DEFAULT_BODY
        if args.body_file:
            with open(args.body_file, encoding="utf-8") as f:
                body = f.read()
        headers = [
            "From: " + (args.header_from or args.sender),
            "To: " + ", ".join(args.to),
            "Subject: " + args.subject,
            "Date: " + email.utils.formatdate(localtime=True),
            "Message-ID: <%s@world.test>" % token,
        ] + args.header
        raw = ("\n".join(headers) + "\n\n" + body.replace("{token}", token)
               ).encode("utf-8")
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join(line + b"\r\n" for line in lines)


def step(name, reply):
    """Print one reply; True when the conversation may go on."""
    code, text = reply
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) \
        else str(text)
    print(name, code, text.replace("\n", " | "), flush=True)
    if 200 <= code < 400:
        return True
    print("RESULT refused", name, code, flush=True)
    return False


def send_data(smtp, msg):
    """DATA content: dot-stuffed, terminated; returns the final reply."""
    stuffed = b"".join((b"." + line if line.startswith(b".") else line)
                       for line in msg.splitlines(keepends=True))
    smtp.send(stuffed + b".\r\n")
    return smtp.getreply()


def pause(args):
    """Hold the session (a test signals the milter meanwhile)."""
    if args.ready_file:
        with open(args.ready_file, "w", encoding="ascii") as f:
            f.write("paused\n")
    if args.pause_before_data > 0:
        time.sleep(args.pause_before_data)


def converse(smtp, args, msg):
    """The SMTP dialogue; returns the exit status."""
    steps = [("CONNECT", lambda: smtp.connect(args.host, args.port)),
             ("EHLO", lambda: smtp.ehlo(args.helo)),
             ("MAIL", lambda: smtp.mail(args.sender))]
    steps += [("RCPT", lambda r=r: smtp.rcpt(r)) for r in args.to]
    steps += [("DATA", lambda: pause(args) or smtp.docmd("DATA")),
              ("DOT", lambda: send_data(smtp, msg))]
    for name, action in steps:
        try:
            ok = step(name, action())
        except (OSError, smtplib.SMTPException) as e:
            print("RESULT error", name, type(e).__name__, e, flush=True)
            return 2
        if not ok:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            return 1
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass
    print("RESULT accepted", flush=True)
    return 0


def submit(args, msg):
    """Local submission through a Postfix instance's sendmail."""
    cmd = ["/usr/sbin/sendmail", "-C", args.sendmail, "-i",
           "-f", args.sender, "--"] + args.to
    try:
        rc = subprocess.run(cmd, input=msg.replace(b"\r\n", b"\n"),
                            timeout=args.timeout, check=False).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    if rc == 0:
        print("RESULT submitted", flush=True)
        return 0
    print("RESULT error sendmail", rc, flush=True)
    return 2


def main():
    args = parse_args()
    token = secrets.token_hex(8)
    msg = build_message(args, token)
    if args.print:
        print("TOKEN", token, file=sys.stderr, flush=True)
        sys.stdout.buffer.write(msg.replace(b"\r\n", b"\n"))
        return 0
    print("TOKEN", token, flush=True)
    if args.sendmail:
        return submit(args, msg)
    return converse(smtplib.SMTP(timeout=args.timeout), args, msg)


if __name__ == "__main__":
    sys.exit(main())
