"""Signatures of lab callbacks and portal hand-offs: HMAC-SHA256 over ``<timestamp>.<body>``.

The header (or query parameter) reads ``t=<unix timestamp>,v1=<hex digest>``; the digest is
HMAC-SHA256 of ``f"{t}.".encode() + body`` with the interface definition's shared secret.
Signatures older than ``max_age`` seconds (or from too far in the future) are refused, so a
captured request cannot be replayed later; the callback endpoint also remembers each
signature it accepted, so it cannot be replayed within the window either.

Scheme: ``docs/interfaces/callbacks.md``.
"""

import hashlib
import hmac
import re
import time

HEADER = "X-Otoorder-Signature"
MAX_AGE_SECONDS = 300


class SignatureError(ValueError):
    """The signature is missing, malformed, wrong or stale; the message says which (German)."""


def digest(secret, timestamp, body):
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret, body, *, timestamp=None):
    """The header value signing ``body`` now (or at ``timestamp``)."""
    timestamp = int(time.time() if timestamp is None else timestamp)
    return f"t={timestamp},v1={digest(secret, timestamp, body)}"


#: A unix timestamp in seconds (ASCII digits, at most 12: until the year 33658) and a
#: SHA-256 hex digest; anything else (a sign, 10^30, Unicode digits, a digest with non-ASCII
#: characters) is unreadable before any arithmetic or comparison touches it.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def parse(header):
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    timestamp, received = parts.get("t", ""), parts.get("v1", "")
    if not (_TIMESTAMP.fullmatch(timestamp) and _DIGEST.fullmatch(received)):
        raise SignatureError("Signatur fehlt oder ist unlesbar.")
    return int(timestamp), received


def verify(secret, body, header, *, max_age=MAX_AGE_SECONDS, now=None):
    """Check ``header`` for ``body``; returns the timestamp or raises ``SignatureError``."""
    if not secret:
        raise SignatureError("Für diese Schnittstelle ist kein gemeinsames Geheimnis hinterlegt.")
    timestamp, received = parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > max_age:
        raise SignatureError("Die Signatur ist abgelaufen (älter als 5 Minuten).")
    if not hmac.compare_digest(digest(secret, timestamp, body), received):
        raise SignatureError("Die Signatur ist falsch.")
    return timestamp
