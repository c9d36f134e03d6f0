#!/usr/bin/python3
"""smtpabort.py - SMTP sessions that end a message early, one per stage.

Usage: smtpabort.py HOST PORT FROM

Runs, against the relay, sessions that leave a milter message context
behind unless the milter frees it on abort or close: RSET after MAIL,
RSET after RCPT, QUIT after MAIL, a dropped connection after MAIL, after
RCPT, and in the middle of DATA, and one session with two messages and an
RSET between them.  Prints "SESSION <name> <last reply code>" per session
and "DONE <n>"; exit 0 unless a session could not even connect.
"""

import smtplib
import socket
import sys


def session(host, port, sender, name, steps):
    """One session: steps is a list of callables taking the SMTP object."""
    smtp = smtplib.SMTP(host, port, timeout=10)
    code = smtp.ehlo("abort.world.test")[0]
    for step in steps:
        code = step(smtp)
    print("SESSION", name, code, flush=True)


def mail(sender):
    return lambda s: s.mail(sender)[0]


def rcpt(s):
    return s.rcpt("rcpt@receiver.example")[0]


def rset(s):
    return s.rset()[0]


def quit_(s):
    return s.quit()[0]


def drop(s):
    s.sock.shutdown(socket.SHUT_RDWR)
    s.close()
    return 0


def half_data(s):
    s.docmd("DATA")
    s.send(b"From: x@good.test\r\nSubject: cut\r\n\r\nhalf a body\r\n")
    return drop(s)


def full_message(sender):
    def send(s):
        body = ("From: %s\r\nSubject: kept\r\n\r\nbody\r\n" % sender)
        return s.sendmail(sender, ["rcpt@receiver.example"], body) or 250
    return send


def main():
    host, port, sender = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    plans = [
        ("rset-after-mail", [mail(sender), rset, quit_]),
        ("rset-after-rcpt", [mail(sender), rcpt, rset, quit_]),
        ("quit-after-mail", [mail(sender), quit_]),
        ("drop-after-mail", [mail(sender), drop]),
        ("drop-after-rcpt", [mail(sender), rcpt, drop]),
        ("drop-in-data", [mail(sender), rcpt, half_data]),
        ("two-messages", [full_message(sender), mail(sender), rset,
                          full_message(sender), quit_]),
    ]
    for name, steps in plans:
        session(host, port, sender, name, steps)
    print("DONE", len(plans), flush=True)


if __name__ == "__main__":
    main()
