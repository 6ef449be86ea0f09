"""What the sandbox's HTTP server and its portals share: the answer of a request, the
loopback check and the signed POST back to otoorder."""

import json
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from otoorder.backends import signing

logger = logging.getLogger("otoorder.sandbox")

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url):
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


class Answer:
    def __init__(self, status, body=b"", content_type="", headers=None):
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = headers or {}

    @classmethod
    def json(cls, data, status=200):
        return cls(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    @classmethod
    def xml(cls, body, status=200):
        return cls(status, body, "application/xml; charset=utf-8")

    @classmethod
    def html(cls, text, status=200):
        return cls(status, text.encode("utf-8"), "text/html; charset=utf-8")


def post_signed(url, body, secret, content_type):
    """POST ``body`` signed to a loopback ``url``; the HTTP status, or None without an answer."""
    if not is_loopback(url):
        logger.warning("sandbox: refusing to call a non-loopback address")
        return None
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, signing.HEADER: signing.sign(secret, body)},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None
