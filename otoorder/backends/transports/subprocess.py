"""The subprocess transport: run an operator-approved program, never through a shell.

* The program must resolve (``realpath``, so symlinks and ``..`` are followed first) to a
  file inside one of the folders of ``OTOORDER_COMMAND_ALLOWLIST`` (``os.pathsep``
  separated; set by the operator in the environment, never in the web UI). Checked when a
  definition is saved (:func:`validate_executable`) and again right before each run; the
  resolved path is what runs, so a symlink swapped afterwards does not redirect the run.
* Arguments are a list; each element is one argv item (``shell=False``), so a value such as
  ``; rm -rf /`` is only text for the program.
* The child gets a minimal environment (``PATH``, ``LANG``, ``HOME`` = its private work
  folder) and none of ours, runs in its own session, and the whole process group is killed
  when the time limit passes.
"""

import os
import signal
import subprocess
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..exceptions import ConfigurationError, PermanentError

ALLOWLIST_ENV = "OTOORDER_COMMAND_ALLOWLIST"
CHILD_PATH = "/usr/local/bin:/usr/bin:/bin"
#: Seconds to wait for the pipes to close after the process group was killed.
REAP_SECONDS = 5


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def allowed_folders():
    """The resolved folders of ``OTOORDER_COMMAND_ALLOWLIST`` (read at every call)."""
    value = os.environ.get(ALLOWLIST_ENV, "")
    return [os.path.realpath(folder) for folder in value.split(os.pathsep) if folder.strip()]


def validate_executable(path):
    """The resolved path of an allow-listed executable; ``ValidationError`` otherwise."""
    if not isinstance(path, str) or not path.strip():
        raise ValidationError(_("Bitte den Pfad des Programms angeben."), code="required")
    if "\x00" in path or not os.path.isabs(path):
        raise ValidationError(_("Bitte einen absoluten Pfad angeben (beginnend mit /)."), code="not_absolute")
    folders = allowed_folders()
    if not folders:
        raise ValidationError(
            _("Auf diesem Server sind keine Programme freigegeben (%(env)s ist nicht gesetzt).") % {"env": ALLOWLIST_ENV},
            code="no_allowlist",
        )
    real = os.path.realpath(path)
    if not any(_is_inside(real, folder) for folder in folders):
        raise ValidationError(
            _("Das Programm %(path)s liegt nicht in einem freigegebenen Ordner (%(env)s).")
            % {"path": path, "env": ALLOWLIST_ENV},
            code="not_allowed",
        )
    if not os.path.isfile(real) or not os.access(real, os.X_OK):
        raise ValidationError(
            _("Das Programm %(path)s gibt es nicht oder es ist nicht ausführbar.") % {"path": path},
            code="not_executable",
        )
    return real


def _is_inside(path, folder):
    try:
        return path != folder and os.path.commonpath([path, folder]) == folder
    except ValueError:
        return False


def child_environment(home):
    """Everything the child learns from us: no secrets, no database or broker addresses."""
    return {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home}


def run(executable, arguments, *, timeout, cwd):
    """Run the allow-listed ``executable`` with ``arguments``; return :class:`Completed`.

    Raises ``ConfigurationError`` when the program is not (or no longer) allowed and
    ``PermanentError`` when it exceeds ``timeout`` seconds (the process group is killed).
    """
    try:
        real = validate_executable(executable)
    except ValidationError as exc:
        raise ConfigurationError(" ".join(exc.messages)) from exc
    argv = [real, *(str(argument).replace("\x00", "") for argument in arguments)]
    try:
        process = subprocess.Popen(
            argv,
            shell=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=child_environment(cwd),
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        raise ConfigurationError(
            code="program_start_failed", params={"path": executable, "error": exc.strerror or exc}
        ) from exc
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise PermanentError(code="program_timeout", params={"seconds": timeout}) from None
    return Completed(process.returncode, _decode(stdout), _decode(stderr))


def _kill_group(process):
    """Kill the program and everything it started (its own session = its process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.communicate(timeout=REAP_SECONDS)
    except subprocess.TimeoutExpired:
        # A grandchild left the group and holds the pipes open: stop reading, reap ours.
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
        process.wait()


def _decode(data):
    return (data or b"").decode("utf-8", errors="replace")
