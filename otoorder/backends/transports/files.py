"""The file-exchange transport: folders inside ``OTOORDER_EXCHANGE_ROOT``, atomic writes.

* Every folder is resolved (``realpath``: symlinks and ``..`` first) and must lie inside the
  operator's exchange root, read from the environment at every call; anything else is
  refused when a definition is saved (:func:`validate_folder`) and again at run time.
* Files are written atomically: a hidden temp file in the same folder, fsync, then
  ``os.replace`` — a reader sees either the old file or the whole new one, never half. Names
  come from the order's UUID, so a re-send replaces the file instead of adding a second.
* Files that were applied move to ``processed/`` (unreadable ones to ``invalid/``) below
  the folder they were read from.
"""

import os
import re
import tempfile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..exceptions import ConfigurationError, TransientError

ROOT_ENV = "OTOORDER_EXCHANGE_ROOT"
PROCESSED = "processed"
INVALID = "invalid"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def exchange_root():
    value = os.environ.get(ROOT_ENV, "").strip()
    return os.path.realpath(value) if value else ""


def validate_folder(path):
    """The resolved folder inside the exchange root; ``ValidationError`` otherwise.

    A relative ``path`` is taken relative to the root.
    """
    root = exchange_root()
    if not root:
        raise ValidationError(
            _("Auf diesem Server ist kein Austauschordner freigegeben (%(env)s ist nicht gesetzt).") % {"env": ROOT_ENV},
            code="no_exchange_root",
        )
    if not isinstance(path, str) or not path.strip() or "\x00" in path:
        raise ValidationError(_("Bitte einen Ordner angeben."), code="required")
    real = os.path.realpath(os.path.join(root, path.strip()))
    if real != root and os.path.commonpath([real, root]) != root:
        raise ValidationError(
            _("Der Ordner %(path)s liegt nicht im freigegebenen Austauschordner (%(env)s).")
            % {"path": path, "env": ROOT_ENV},
            code="outside_exchange_root",
        )
    return real


def folder(path, *, create=False):
    """Run-time form of :func:`validate_folder`: ``ConfigurationError`` instead."""
    try:
        real = validate_folder(path)
    except ValidationError as exc:
        raise ConfigurationError(" ".join(exc.messages)) from exc
    if create:
        try:
            os.makedirs(real, mode=0o750, exist_ok=True)
        except OSError as exc:
            raise TransientError(code="folder_create_failed", params={"path": path, "error": exc.strerror}) from exc
    elif not os.path.isdir(real):
        raise ConfigurationError(code="folder_missing", params={"path": path})
    return real


def _check_name(name):
    if not _SAFE_NAME.match(name):
        raise ValueError(f"unsafe exchange file name: {name!r}")


def atomic_write(directory, name, data):
    """Write ``data`` to ``directory/name`` atomically; returns the final path."""
    _check_name(name)
    target = os.path.join(directory, name)
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o640)
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        _fsync_directory(directory)
    except OSError as exc:
        raise TransientError(code="file_write_failed", params={"name": name, "error": exc.strerror}) from exc
    return target


def _fsync_directory(directory):
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def list_files(directory, suffix):
    """Regular, non-hidden files of ``directory`` ending in ``suffix``, oldest name first."""
    names = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(suffix) and not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                names.append(entry.name)
    return [os.path.join(directory, name) for name in sorted(names)]


def move_to(directory, path, subfolder):
    """Move a read file to ``directory/subfolder/`` (replacing an earlier file of that name)."""
    destination = os.path.join(directory, subfolder)
    os.makedirs(destination, mode=0o750, exist_ok=True)
    target = os.path.join(destination, os.path.basename(path))
    os.replace(path, target)
    return target
