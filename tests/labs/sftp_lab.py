"""A real SFTP server on 127.0.0.1 for the tests (asyncssh), serving one folder as its root.

Usage::

    from tests.labs.sftp_lab import sftp_lab  # noqa: F401 - the fixture

    def test_something(sftp_lab):
        (sftp_lab.root / "out").mkdir()
        options = sftp_lab.options(remote_outbox="out", remote_inbox="in")
        ...  # sftp_lab.host, .port, .username, .password, .host_key (known_hosts form)

The server has a freshly generated ed25519 host key and one password user. Clients are
confined to ``root`` (asyncssh's chroot). Folders named in ``read_only`` refuse every write
("permission denied"), whatever user the tests run as; ``posix_rename_supported = False``
plays a server without the ``posix-rename@openssh.com`` extension. No shell, no exec, no port
forwarding; loopback only; logins that hang are cut after ``LOGIN_TIMEOUT``.
"""

import asyncio
import logging
import os
import socket
import threading
from pathlib import Path

import asyncssh
import pytest

HOST = "127.0.0.1"
USERNAME = "otoport"
PASSWORD = "sftp-lab-passwort"
LOGIN_TIMEOUT = 10
START_TIMEOUT = 10


class _PasswordServer(asyncssh.SSHServer):
    def __init__(self, lab):
        self.lab = lab

    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return username == self.lab.username and password == self.lab.password


class _LabSftpServer(asyncssh.SFTPServer):
    """asyncssh's file server, chrooted to the lab's root, with read-only folders."""

    WRITE_FLAGS = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC | asyncssh.FXF_APPEND

    def __init__(self, chan, lab):
        super().__init__(chan, chroot=os.fsencode(lab.root))
        self.lab = lab

    def _refuse_if_read_only(self, *paths):
        for path in paths:
            local = os.path.realpath(os.fsdecode(self.map_path(path)))
            for folder in self.lab.read_only:
                if os.path.commonpath([local, folder]) == folder:
                    raise asyncssh.SFTPPermissionDenied("Permission denied")

    def open(self, path, pflags, attrs):
        if pflags & self.WRITE_FLAGS:
            self._refuse_if_read_only(path)
        return super().open(path, pflags, attrs)

    def remove(self, path):
        self._refuse_if_read_only(path)
        return super().remove(path)

    def mkdir(self, path, attrs):
        self._refuse_if_read_only(path)
        return super().mkdir(path, attrs)

    def rename(self, oldpath, newpath):
        self._refuse_if_read_only(oldpath, newpath)
        return super().rename(oldpath, newpath)

    def posix_rename(self, oldpath, newpath):
        if not self.lab.posix_rename_supported:
            raise asyncssh.SFTPOpUnsupported("posix-rename not supported")
        self._refuse_if_read_only(oldpath, newpath)
        self.lab.posix_renames += 1
        return super().posix_rename(oldpath, newpath)


class SftpLab:
    def __init__(self, root, *, username=USERNAME, password=PASSWORD):
        self.root = Path(root)
        self.username = username
        self.password = password
        self.host = HOST
        self.port = None
        self.read_only = set()
        self.posix_renames = 0
        #: False plays a server without ``posix-rename@openssh.com`` (plain SFTP v3 rename).
        self.posix_rename_supported = True
        self._key = asyncssh.generate_private_key("ssh-ed25519")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sftp-lab", daemon=True)
        self._server = None

    @property
    def host_key(self):
        """The server's public key as an operator enters it: ``ssh-ed25519 AAAA…``."""
        key_type, data = self._key.export_public_key("openssh").decode().split()[:2]
        return f"{key_type} {data}"

    def options(self, **overrides):
        """Options of an ``otofaktur_otoport`` definition against this lab."""
        return {
            "sftp_host": self.host,
            "sftp_port": self.port,
            "username": self.username,
            "password": self.password,
            "sftp_host_key": self.host_key,
            "remote_outbox": "out",
            "remote_inbox": "in",
            **overrides,
        }

    def make_read_only(self, folder):
        self.read_only.add(os.path.realpath(self.root / folder))

    def start(self):
        # asyncssh logs every connection at INFO; the tests' output needs only problems.
        logging.getLogger("asyncssh").setLevel(logging.WARNING)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._server = future.result(timeout=START_TIMEOUT)
        self.port = self._server.get_port()
        return self

    async def _listen(self):
        return await asyncssh.listen(
            HOST,
            0,
            server_factory=lambda: _PasswordServer(self),
            server_host_keys=[self._key],
            sftp_factory=lambda chan: _LabSftpServer(chan, self),
            allow_scp=False,
            login_timeout=LOGIN_TIMEOUT,
            process_factory=None,
            session_factory=None,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_pty=False,
        )

    def stop(self):
        async def close():
            self._server.close()
            await self._server.wait_closed()

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=START_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=START_TIMEOUT)
        self._loop.close()


def free_port():
    """A loopback port nobody listens on (refuses connections)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture
def sftp_lab(tmp_path):
    root = tmp_path / "sftp-root"
    root.mkdir()
    lab = SftpLab(root).start()
    try:
        yield lab
    finally:
        lab.stop()
