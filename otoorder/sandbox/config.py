"""The sandbox's configuration: credentials and callback secrets the demo data wrote.

``var/sandbox.json`` (mode 0600) is written by ``load_demo_data`` and re-read by the sandbox
whenever it changes, so reloading the demo data needs no sandbox restart::

    {"otoorder_url": "http://127.0.0.1:8000",
     "dreve": {"api_key": …},
     "audia": {"username": …, "password": …},
     "hoerluchs": {"username": …, "password": …},
     "egger": {"username": …, "password": …, "definition_id": …, "shared_secret": …},
     "portals": {"audia": {"definition_id": …, "shared_secret": …}, "egger": {…}},
     "otoport": {"outbox": <absolute folder>, "inbox": <absolute folder>},
     "timing": {"step_seconds": 60, "egger_confirm_seconds": 3}}
"""

import json
import os
import tempfile
import threading

#: How long the labs take from one status to the next, unless the config says otherwise.
DEFAULT_TIMING = {"step_seconds": 60.0, "egger_confirm_seconds": 3.0}


def write_config(path, data):
    """Write ``data`` atomically with mode 0600; returns True when the content changed."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".sandbox.", suffix=".part")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


class SandboxConfig:
    """The configuration, from a file (re-read when it changes) or a dict (tests)."""

    def __init__(self, path=None, data=None):
        self.path = path
        self._data = data or {}
        self._mtime = None
        self._lock = threading.Lock()

    def get(self):
        if self.path is None:
            return self._data
        with self._lock:
            try:
                mtime = os.stat(self.path).st_mtime_ns
            except FileNotFoundError:
                return self._data
            if mtime != self._mtime:
                with open(self.path, encoding="utf-8") as handle:
                    self._data = json.load(handle)
                self._mtime = mtime
            return self._data

    def section(self, name):
        return self.get().get(name) or {}

    def timing(self, name):
        return float(self.section("timing").get(name, DEFAULT_TIMING[name]))
