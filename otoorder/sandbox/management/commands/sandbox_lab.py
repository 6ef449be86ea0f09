"""``manage.py sandbox_lab``: the loopback sandbox lab of ``make run`` (demo mode only)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from otoorder.sandbox.config import SandboxConfig
from otoorder.sandbox.server import SandboxLab

DEFAULT_PORT = 8700


def config_path():
    return settings.VAR_DIR / "sandbox.json"


class Command(BaseCommand):
    help = "Run the sandbox lab on 127.0.0.1 (every documented lab format; demo mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=DEFAULT_PORT)
        parser.add_argument("--config", default="", help="Configuration file (default: var/sandbox.json).")

    def handle(self, *args, port, config, **options):
        if not settings.DEMO_MODE:
            raise CommandError("The sandbox lab runs in demo mode only (never with DJANGO_ENV=production).")
        path = config or str(config_path())
        try:
            lab = SandboxLab(SandboxConfig(path), port=port).start()
        except OSError as exc:
            raise CommandError(f"The sandbox lab cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
        self.stdout.write(f"Sandbox lab on {lab.url}/ (configuration {path})")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            while not stop.wait(1.0):
                pass
        finally:
            lab.stop()
