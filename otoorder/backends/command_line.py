"""Kommandozeilenbefehl: start an operator-approved program with the order as parameters.

* the order is written as JSON (``OrderDocument.as_dict()``) into a private work folder
  (0700, file 0600) whose file path is the placeholder ``{order_file}``; the folder is
  removed after the run;
* ``arguments`` is a list of strings with placeholders (:data:`PLACEHOLDERS`); each
  element becomes exactly one argv item, no shell is involved;
* exit code 0 → *ordered*; a stdout line ``EXTERNAL_REFERENCE=<value>`` → *confirmed*
  with that lab number; exit code 75 (``EX_TEMPFAIL``) → retried later; any other exit
  code fails the order with the end of stderr; the time limit kills the program;
* cancellation (optional ``cancel_command``, same allow-list and rules, ``cancel_arguments``
  with the order's placeholders plus :data:`CANCEL_PLACEHOLDERS`): exit 0 → accepted, exit
  :data:`EXIT_CANCEL_REFUSED` → refused with the program's output as the lab's words, 75 →
  retried; without a cancel command the cancellation is reported by staff (manual).

Wire format: ``docs/interfaces/command_line.md``.
"""

import json
import os
import shutil
import string
import tempfile
import uuid

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import BaseBackend
from .exceptions import (
    ConfigurationError,
    OrderRejected,
    PermanentError,
    TransientError,
)
from .options import Option
from .result import CancelResult, CancelStatus, DispatchResult, ResultStatus
from .transports import subprocess as subprocess_transport
from .transports.subprocess import validate_executable

#: Placeholder → how its value is taken from the order document.
PLACEHOLDERS = {
    "order_id": lambda document, order_file: document.order_id,
    "order_number": lambda document, order_file: document.order_number,
    "order_file": lambda document, order_file: order_file,
    "customer_reference": lambda document, order_file: document.customer_reference,
    "supplier_account": lambda document, order_file: document.supplier_account,
    "branch": lambda document, order_file: document.branch.name,
    "sides": lambda document, order_file: ",".join(document.sides),
}
#: The cancellation's values, for ``cancel_arguments`` besides the order's placeholders.
CANCEL_PLACEHOLDERS = {
    **PLACEHOLDERS,
    "idempotency_key": lambda request, order_file: request.idempotency_key,
    "reason": lambda request, order_file: request.reason,
    "lab_reference": lambda request, order_file: request.lab_reference,
    "sequence": lambda request, order_file: request.sequence,
}
DEFAULT_CANCEL_ARGUMENTS = ["{order_file}", "{idempotency_key}", "{reason}"]
#: The cancel program's "the lab refuses the cancellation" (its output: the lab's reason).
EXIT_CANCEL_REFUSED = 10
REFERENCE_PREFIX = "EXTERNAL_REFERENCE="
#: sysexits.h EX_TEMPFAIL: the program says "try again later".
EXIT_TEMPFAIL = 75
STDERR_KEEP_CHARS = 500
OUTPUT_KEEP_CHARS = 4000
REFERENCE_MAX_CHARS = 100


def validate_arguments(arguments, placeholders=PLACEHOLDERS):
    """Refuse unknown or malformed placeholders, naming them (usable when saving)."""
    for argument in arguments:
        try:
            fields = list(string.Formatter().parse(argument))
        except ValueError:
            raise ValidationError(
                _("Ungültige geschweifte Klammer in „%(argument)s“ (für eine Klammer als Text {{ bzw. }} schreiben).")
                % {"argument": argument},
                code="malformed_placeholder",
            ) from None
        for _literal, name, format_spec, conversion in fields:
            if name is None:
                continue
            if name not in placeholders or format_spec or conversion:
                shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{format_spec}" if format_spec else "") + "}"
                raise ValidationError(
                    _("Unbekannter Platzhalter %(placeholder)s. Erlaubt sind: %(allowed)s.")
                    % {"placeholder": shown, "allowed": ", ".join("{" + key + "}" for key in placeholders)},
                    code="unknown_placeholder",
                )
    return arguments


def render_arguments(arguments, document, order_file):
    """The argv items: each template filled in on its own, values never re-parsed."""
    values = {name: str(value(document, order_file)) for name, value in PLACEHOLDERS.items()}
    return [argument.format_map(values) for argument in validate_arguments(arguments)]


def render_cancel_arguments(arguments, request, order_file):
    """The cancel program's argv items: the order's placeholders and the cancellation's."""
    values = {name: str(value(request.order, order_file)) for name, value in PLACEHOLDERS.items()}
    values.update(
        {name: str(CANCEL_PLACEHOLDERS[name](request, order_file)) for name in CANCEL_PLACEHOLDERS if name not in PLACEHOLDERS}
    )
    return [argument.format_map(values) for argument in validate_arguments(arguments, CANCEL_PLACEHOLDERS)]


class ExecutableOption(Option):
    def clean(self, value):
        value = super().clean(value)
        validate_executable(value)
        return value


class ArgumentsOption(Option):
    def clean(self, value):
        return validate_arguments(super().clean(value))


class OptionalExecutableOption(Option):
    def clean(self, value):
        value = super().clean(value)
        if value:
            validate_executable(value)
        return value


class CancelArgumentsOption(Option):
    def clean(self, value):
        return validate_arguments(super().clean(value), CANCEL_PLACEHOLDERS)


class CommandLineBackend(BaseBackend):
    key = "command_line"
    label = "Kommandozeilenbefehl"
    description = gettext_lazy(
        "Startet ein vom Betreiber freigegebenes Programm mit den Bestelldaten als Parametern "
        "(ohne Shell); die Bestellung liegt als JSON-Datei bei."
    )
    options = (
        ExecutableOption(
            "executable",
            gettext_lazy("Programm"),
            help_text=gettext_lazy(
                "Absoluter Pfad; nur Programme in den vom Betreiber freigegebenen Ordnern "
                "(OTOORDER_COMMAND_ALLOWLIST) sind erlaubt."
            ),
        ),
        ArgumentsOption(
            "arguments",
            gettext_lazy("Argumente"),
            kind="list",
            default=["{order_file}"],
            help_text=gettext_lazy(
                "Ein Argument pro Zeile. Platzhalter: {order_id}, {order_number}, {order_file}, "
                "{customer_reference}, {supplier_account}, {branch}, {sides}."
            ),
        ),
        Option(
            "timeout_seconds",
            gettext_lazy("Zeitlimit (Sekunden)"),
            kind="int",
            default=60,
            min_value=1,
            max_value=3600,
        ),
        OptionalExecutableOption(
            "cancel_command",
            gettext_lazy("Programm für Stornierungen"),
            required=False,
            help_text=gettext_lazy(
                "Optional; absoluter Pfad in den freigegebenen Ordnern. Ohne Programm meldet die Filiale "
                "eine Stornierung selbst beim Labor."
            ),
        ),
        CancelArgumentsOption(
            "cancel_arguments",
            gettext_lazy("Argumente für Stornierungen"),
            kind="list",
            required=False,
            help_text=gettext_lazy(
                "Ein Argument pro Zeile. Platzhalter wie oben, dazu {idempotency_key}, {reason}, "
                "{lab_reference}, {sequence}. Leer: {order_file}, {idempotency_key}, {reason}."
            ),
        ),
    )
    supports_cancellation = True

    def validate(self, document):
        super().validate(document)
        try:
            uuid.UUID(document.order_id)
        except ValueError:
            # The order file is named after it; anything but a UUID could name another path.
            raise OrderRejected(code="invalid_order_id") from None

    def build_payload(self, document):
        return json.dumps(document.as_dict(), ensure_ascii=False, indent=2).encode("utf-8")

    def transmit(self, payload, document):
        return self._run(
            self.config["executable"],
            document,
            payload,
            lambda order_file: render_arguments(self.config["arguments"], document, order_file),
        )

    def _run(self, executable, document, payload, arguments):
        """Run ``executable`` with the order file in a private folder, removed afterwards."""
        workdir = tempfile.mkdtemp(prefix="otoorder-cmd-")  # 0700: only we may look inside
        try:
            order_file = os.path.join(workdir, f"{uuid.UUID(document.order_id)}.json")
            descriptor = os.open(order_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(payload)
            return subprocess_transport.run(
                executable, arguments(order_file), timeout=self.config["timeout_seconds"], cwd=workdir
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def cancel(self, request):
        """Run the operator's ``cancel_command``; without one staff report the cancellation.

        The program gets the order file (as for the order) and the cancellation's
        placeholders; exit 0 → accepted, ``EXIT_CANCEL_REFUSED`` → refused (its output is the
        lab's reason), 75 → retried later, anything else fails the request visibly.
        """
        if not self.config.get("cancel_command"):
            return CancelResult(
                CancelStatus.MANUAL,
                message=_("Für diese Schnittstelle ist kein Programm für Stornierungen eingerichtet; "
                          "bitte die Stornierung beim Labor melden."),
            )
        try:
            uuid.UUID(request.order.order_id)
        except ValueError:
            raise OrderRejected(code="invalid_order_id") from None
        payload = self.build_payload(request.order)
        arguments = self.config.get("cancel_arguments") or DEFAULT_CANCEL_ARGUMENTS
        response = self._run(
            self.config["cancel_command"],
            request.order,
            payload,
            lambda order_file: render_cancel_arguments(arguments, request, order_file),
        )
        summary = {
            "executable": self.config["cancel_command"],
            "arguments": len(arguments),
            "idempotency_key": request.idempotency_key,
            "exit_code": response.returncode,
        }
        raw = _tail(response.stdout, OUTPUT_KEEP_CHARS)
        if response.returncode == 0:
            return CancelResult(
                CancelStatus.ACCEPTED,
                lab_message=_tail(response.stdout, STDERR_KEEP_CHARS),
                message=_("Vom Programm storniert."),
                request_summary=summary,
                raw_response=raw,
            )
        if response.returncode == EXIT_CANCEL_REFUSED:
            words = _tail(response.stdout.strip() or response.stderr.strip(), STDERR_KEEP_CHARS)
            return CancelResult(
                CancelStatus.REFUSED,
                lab_message=words,
                message=(
                    _("Das Labor lehnt die Stornierung ab: %(message)s") % {"message": words}
                    if words
                    else _("Das Labor lehnt die Stornierung ab.")
                ),
                request_summary=summary,
                raw_response=raw or _tail(response.stderr, OUTPUT_KEEP_CHARS),
            )
        raise self._failure(response, summary)

    def parse_result(self, response, payload, document):
        summary = {
            "executable": self.config["executable"],
            "arguments": len(self.config["arguments"]),
            "order_file_bytes": len(payload),
            "exit_code": response.returncode,
        }
        if response.returncode != 0:
            raise self._failure(response, summary)
        reference = external_reference(response.stdout)
        return DispatchResult(
            ResultStatus.CONFIRMED if reference else ResultStatus.ORDERED,
            external_reference=reference,
            message=(
                _("Vom Programm übergeben, Auftragsnummer des Labors: %(reference)s.") % {"reference": reference}
                if reference
                else _("Vom Programm übergeben.")
            ),
            request_summary=summary,
            raw_response=_tail(response.stdout, OUTPUT_KEEP_CHARS),
        )

    def _failure(self, response, summary):
        output = _tail(response.stderr.strip() or response.stdout.strip(), STDERR_KEEP_CHARS)
        if response.returncode < 0:
            text = _("Das Programm wurde durch Signal %(signal)s beendet.") % {"signal": -response.returncode}
        else:
            text = _("Das Programm endete mit Fehlercode %(code)s.") % {"code": response.returncode}
        if output:
            text = f"{text} {output}"
        error_class = TransientError if response.returncode == EXIT_TEMPFAIL else PermanentError
        return error_class(text, detail=str(summary), response=_tail(response.stderr, OUTPUT_KEEP_CHARS))

    @classmethod
    def clean_options(cls, config):
        if config.get("cancel_arguments") and not config.get("cancel_command"):
            raise ValidationError(
                {"cancel_arguments": _("Argumente für Stornierungen gelten nur zusammen mit einem Programm für Stornierungen.")}
            )

    def check_connection(self):
        try:
            path = validate_executable(self.config["executable"])
            cancel_path = validate_executable(self.config["cancel_command"]) if self.config.get("cancel_command") else ""
        except ValidationError as exc:
            raise ConfigurationError(" ".join(exc.messages)) from exc
        if cancel_path:
            return _("Die Programme %(path)s und %(cancel)s sind freigegeben und ausführbar.") % {
                "path": path,
                "cancel": cancel_path,
            }
        return _("Das Programm %(path)s ist freigegeben und ausführbar.") % {"path": path}


def external_reference(stdout):
    """The value of the first ``EXTERNAL_REFERENCE=`` line of the program's output."""
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith(REFERENCE_PREFIX):
            return line[len(REFERENCE_PREFIX) :].strip()[:REFERENCE_MAX_CHARS]
    return ""


def _tail(text, limit):
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]
