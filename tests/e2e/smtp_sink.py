#!/usr/bin/python3
"""An SMTP sink for the reminder tests (Debian's python3-aiosmtpd): accepts every message and appends one JSON line
per message to --out: message_id, the X-Todo-* headers, envelope, subject, the MIME structure, whether the session
used TLS. Optional STARTTLS (--tls-cert/--tls-key, --require-starttls), and scripted failures by recipient:
reject-* gets 550 on every attempt, flaky-* gets 451 on its first attempt. Prints "ready <port>" when listening.
"""
import argparse
import asyncio
import email
import email.policy
import json
import ssl
import sys
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out):
        self.out = open(out, "a", buffering=1)
        self.attempts = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        n = self.attempts.get(address, 0) + 1
        self.attempts[address] = n
        if local.startswith("reject-"):
            return "550 5.1.1 no such user here"
        if local.startswith("flaky-") and n == 1:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = []
        if msg.is_multipart():
            for p in msg.iter_parts():
                parts.append({"type": p.get_content_type(), "body": p.get_content()})
        record = {
            "message_id": str(msg.get("Message-ID", "")),
            "reminder_id": str(msg.get("X-Todo-Reminder-Id", "")),
            "sender": str(msg.get("X-Todo-Sender", "")),
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "subject": str(msg.get("Subject", "")),
            "content_type": msg.get_content_type(),
            "parts": parts,
            "tls": session.ssl is not None,
            "received": time.time(),
        }
        self.out.write(json.dumps(record) + "\n")
        return "250 Message accepted"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--require-starttls", action="store_true")
    args = ap.parse_args()
    kwargs = {}
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = ctx
        kwargs["require_starttls"] = args.require_starttls
    controller = Controller(Handler(args.out), hostname="127.0.0.1", port=args.port, ready_timeout=10, **kwargs)
    controller.start()
    print("ready", args.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
