"""The SFTP transport of the file exchange: the same contract as ``files.py``, on a lab's server.

* The server must prove its identity with the host key the operator entered (OpenSSH
  ``known_hosts`` format); an unknown or different key is refused, never accepted.
* Password login only (no agent, no keys from ``~/.ssh``): the definition is the whole truth.
* Files are uploaded atomically: a hidden temp file in the target folder, then renamed over
  the final name (``posix-rename@openssh.com``; servers without it get remove + rename, so a
  reader sees no file or the whole one, never half of it).
* Read files move to ``processed/`` (unreadable ones to ``invalid/``) below their folder.

Errors are classified for the dispatcher: unreachable server, timeouts and broken
connections are :class:`TransientError`; a wrong password, a wrong host key, a missing
folder or missing rights are :class:`ConfigurationError` (no retry fixes them).
"""

import base64
import binascii
import contextlib
import errno
import io
import ipaddress
import logging
import posixpath
import re
import secrets
import socket
import stat

import paramiko
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..exceptions import ConfigurationError, TransientError

logger = logging.getLogger(__name__)

DEFAULT_PORT = 22
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_DENIED = {errno.EACCES, errno.EPERM}


# --- option values ------------------------------------------------------------------------


def validate_host(value):
    """A host name or IP address as the operator wrote it (no scheme, user or port)."""
    host = value.strip()
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if not host or len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValidationError(
            _("Bitte nur den Rechnernamen oder die IP-Adresse des SFTP-Servers angeben (ohne sftp://, Benutzer und Port)."),
            code="invalid_host",
        )
    return host


def validate_remote_folder(value):
    """A folder on the server, normalised; ``..`` components and control characters are refused.

    Relative folders are relative to the login folder of the SFTP user.
    """
    folder = value.strip()
    if not folder:
        raise ValidationError(_("Bitte einen Ordner angeben."), code="required")
    if _CONTROL.search(folder) or "\\" in folder:
        raise ValidationError(_("Der Ordnername enthält unzulässige Zeichen."), code="invalid_folder")
    if ".." in folder.split("/"):
        raise ValidationError(
            _("Der Ordner %(path)s darf kein „..“ enthalten.") % {"path": folder}, code="path_traversal"
        )
    return posixpath.normpath(folder)


def parse_host_key(value):
    """The server's public key from a ``known_hosts`` line (``[hosts] <type> <base64> [comment]``).

    Returns a ``paramiko.PKey``; raises ``ValidationError`` for anything else.
    """
    tokens = value.split()
    invalid = ValidationError(
        _(
            "Kein gültiger öffentlicher Schlüssel des Servers. Erwartet wird eine Zeile wie "
            "„ssh-ed25519 AAAA…“ (z. B. aus „ssh-keyscan“ oder der Datei known_hosts)."
        ),
        code="invalid_host_key",
    )
    if not tokens or tokens[0].startswith("@"):
        # @cert-authority / @revoked lines do not name one key of one server.
        raise invalid
    start = 0 if len(tokens) < 2 or _looks_like_key_type(tokens[0]) else 1
    if len(tokens) < start + 2:
        raise invalid
    key_type, data = tokens[start], tokens[start + 1]
    try:
        blob = base64.b64decode(data, validate=True)
        return paramiko.PKey.from_type_string(key_type, blob)
    except (binascii.Error, ValueError, paramiko.SSHException):
        raise invalid from None


def _looks_like_key_type(token):
    return token.startswith(("ssh-", "ecdsa-", "sk-"))


def host_key_line(key):
    """The canonical ``<type> <base64>`` form of a key, as stored."""
    return f"{key.get_name()} {key.get_base64()}"


# --- the connection -----------------------------------------------------------------------


class _RejectUnknownHost(paramiko.MissingHostKeyPolicy):
    """Never reached with a configured key; refuses outright should it ever be."""

    def missing_host_key(self, client, hostname, key):
        raise paramiko.BadHostKeyException(hostname, key, key)


class SftpSession:
    """One SFTP connection, as a context manager::

        with SftpSession(host, port, username, password, host_key, timeout) as session:
            session.upload_atomic("outbox", "<uuid>.xml", data)
    """

    def __init__(self, host, port, username, password, host_key, timeout):
        self.host = host
        self.port = int(port or DEFAULT_PORT)
        self.username = username
        self.password = password
        self.host_key = parse_host_key(host_key) if isinstance(host_key, str) else host_key
        self.timeout = timeout
        self.client = None
        self.sftp = None

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def __enter__(self):
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(_RejectUnknownHost())
        name = self.host if self.port == DEFAULT_PORT else f"[{self.host}]:{self.port}"
        self.client.get_host_keys().add(name, self.host_key.get_name(), self.host_key)
        try:
            with self._connection_errors():
                self.client.connect(
                    self.host,
                    port=self.port,
                    username=self.username,
                    password=self.password,
                    timeout=self.timeout,
                    banner_timeout=self.timeout,
                    auth_timeout=self.timeout,
                    channel_timeout=self.timeout,
                    allow_agent=False,
                    look_for_keys=False,
                )
                self.sftp = self.client.open_sftp()
                self.sftp.get_channel().settimeout(self.timeout)
        except BaseException:
            self.client.close()
            raise
        return self

    def __exit__(self, *exc_info):
        if self.sftp is not None:
            self.sftp.close()
        self.client.close()
        return False

    @contextlib.contextmanager
    def _connection_errors(self):
        try:
            yield
        except paramiko.BadHostKeyException as exc:
            raise ConfigurationError(
                code="sftp_host_key",
                params={"address": self.address},
                detail=f"offered {exc.key.get_name()} {exc.key.fingerprint}",
            ) from exc
        except paramiko.AuthenticationException as exc:
            raise ConfigurationError(code="sftp_auth", params={"address": self.address}) from exc
        except (TimeoutError, socket.timeout) as exc:
            raise TransientError(code="sftp_timeout", params={"address": self.address}) from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise TransientError(
                code="sftp_unreachable", params={"address": self.address, "error": _describe(exc)}
            ) from exc

    @contextlib.contextmanager
    def _folder_errors(self, folder):
        """Classify an error of a file operation in ``folder``."""
        try:
            yield
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise ConfigurationError(
                    code="sftp_folder_missing", params={"path": folder, "address": self.address}
                ) from exc
            if exc.errno in _DENIED:
                raise ConfigurationError(
                    code="sftp_folder_denied", params={"path": folder, "address": self.address}
                ) from exc
            raise TransientError(
                code="sftp_folder_error", params={"path": folder, "address": self.address, "error": _describe(exc)}
            ) from exc
        except (paramiko.SSHException, EOFError) as exc:
            raise TransientError(
                code="sftp_connection_lost", params={"address": self.address, "error": _describe(exc)}
            ) from exc

    # --- operations -----------------------------------------------------------------------

    def upload_atomic(self, folder, name, data):
        """Upload ``data`` as ``folder/name`` atomically; returns the remote path."""
        _check_name(name)
        target = posixpath.join(folder, name)
        temporary = posixpath.join(folder, f".{name}.{secrets.token_hex(8)}.part")
        with self._folder_errors(folder):
            self._require_folder(folder)
            try:
                self.sftp.putfo(io.BytesIO(data), temporary, file_size=len(data), confirm=True)
                self._replace(temporary, target)
            except BaseException:
                self._remove_quietly(temporary)
                raise
        return target

    def list_files(self, folder, suffix):
        """Names of the regular, non-hidden files of ``folder`` ending in ``suffix``, sorted."""
        with self._folder_errors(folder):
            entries = self.sftp.listdir_attr(folder)
        return sorted(
            entry.filename
            for entry in entries
            if entry.filename.endswith(suffix)
            and not entry.filename.startswith(".")
            and entry.st_mode is not None
            and stat.S_ISREG(entry.st_mode)
        )

    def read(self, folder, name, limit):
        """Up to ``limit`` bytes of ``folder/name``."""
        _check_name(name)
        with self._folder_errors(folder), self.sftp.open(posixpath.join(folder, name), "rb") as handle:
            return handle.read(limit)

    def move_to(self, folder, name, subfolder):
        """Move ``folder/name`` to ``folder/subfolder/name`` (replacing an earlier file)."""
        _check_name(name)
        destination = posixpath.join(folder, subfolder)
        with self._folder_errors(folder):
            try:
                self.sftp.mkdir(destination, mode=0o750)
            except OSError:
                # Usually: it exists. Anything else shows in the rename below.
                pass
            self._replace(posixpath.join(folder, name), posixpath.join(destination, name))
        return posixpath.join(destination, name)

    def check_folder(self, folder):
        """The folder exists and a file can be created and removed in it."""
        probe = posixpath.join(folder, f".otoorder-probe-{secrets.token_hex(8)}")
        with self._folder_errors(folder):
            self._require_folder(folder)
            try:
                with self.sftp.open(probe, "wb") as handle:
                    handle.write(b"otoorder\n")
            finally:
                self._remove_quietly(probe)

    def _require_folder(self, folder):
        attributes = self.sftp.stat(folder)
        if attributes.st_mode is not None and not stat.S_ISDIR(attributes.st_mode):
            raise ConfigurationError(code="sftp_not_a_folder", params={"path": folder, "address": self.address})

    def _replace(self, source, target):
        try:
            self.sftp.posix_rename(source, target)
        except OSError as exc:
            if exc.errno is not None:
                raise
            # The server lacks posix-rename@openssh.com (plain SFTP v3 rename never
            # overwrites): remove the old file, then rename. A reader may briefly see no
            # file, but never a partial one.
            logger.info("sftp: %s: posix-rename unavailable (%s); remove and rename", self.address, exc)
            try:
                self.sftp.remove(target)
            except FileNotFoundError:
                pass
            self.sftp.rename(source, target)

    def _remove_quietly(self, path):
        try:
            self.sftp.remove(path)
        except (OSError, paramiko.SSHException, EOFError):
            pass


def _check_name(name):
    if not _SAFE_NAME.match(name):
        raise ValueError(f"unsafe exchange file name: {name!r}")


def _describe(exc):
    return getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__

