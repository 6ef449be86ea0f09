"""The demo's SMTP server: keeps every message as an ``.eml`` file instead of delivering it.

``make run`` points ``EMAIL_URL`` at it (``smtp://127.0.0.1:2525``), so orders to e-mail
suppliers travel the real SMTP path and land in ``var/mail/``, where they can be opened with
any mail program. It listens on loopback only and runs in demo mode only.
"""

import email
import email.policy
import logging
import os
import signal
import tempfile
import threading
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

logger = logging.getLogger("otoorder.demo_mail_sink")


class MaildirHandler:
    """aiosmtpd handler: write each message atomically (temp file + rename) to ``directory``."""

    def __init__(self, directory):
        self.directory = Path(directory)

    async def handle_DATA(self, server, session, envelope):
        path = self.store(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        # Recipient and subject only: the body and the PDF carry the customer reference.
        logger.info(
            "received mail to %s, subject %r, stored as %s",
            ", ".join(envelope.rcpt_tos),
            str(message.get("Subject", "")).strip(),
            path.name,
        )
        return "250 Message accepted for delivery"

    def store(self, content):
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        fd, temp_name = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        target = self.directory / name
        os.replace(temp_name, target)
        return target


class Command(BaseCommand):
    help = "Run the demo SMTP sink on 127.0.0.1 that stores received mail as .eml files (demo mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument(
            "--directory", default=str(settings.VAR_DIR / "mail"), help="Where .eml files are written."
        )

    def handle(self, *args, port, directory, **options):
        if not settings.DEMO_MODE:
            raise CommandError("The demo mail sink runs in demo mode only.")
        # aiosmtpd logs every SMTP command at INFO; one line per message is enough here.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        handler = MaildirHandler(directory)
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except Exception as exc:  # noqa: BLE001 - port taken, etc.: say so and stop
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc}") from exc
        logger.info("demo mail sink listening on 127.0.0.1:%s, writing to %s", port, directory)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_args: stop.set())
        try:
            stop.wait()
        finally:
            controller.stop()
            logger.info("demo mail sink stopped")
