"""Otofaktur Otoport: file exchange through an outbox and an inbox folder.

* send: ``<order uuid>.xml`` (format ``otoport-order`` version 1) is written atomically into
  ``outbox_dir``; a re-send replaces the file, so the lab never sees the order twice;
  result *ordered* (the lab's number comes back in a status file);
* answers: the lab writes ``<order uuid>.status.xml`` (format ``otoport-status``) into
  ``inbox_dir``; :meth:`OtofakturOtoportBackend.read_inbox` (called by a periodic task)
  maps each through :data:`STATUS_TABLE` and moves it to ``processed/`` once applied,
  or to ``invalid/`` when it cannot be read;
* cancellation: ``<order uuid>-storno-<n>.cancel.xml`` (format ``otoport-cancellation``)
  into the outbox → *pending*; the lab answers with a status file: ``cancelled``, or
  ``<cancellation>refused</cancellation>`` with its reason;
* questions: a status file ``on_hold`` with the lab's ``<question>``; staff's answer goes out
  as ``<message id>.message.xml`` (format ``otoport-message``).

Both folders must lie inside ``OTOORDER_EXCHANGE_ROOT``. With ``sftp_host`` set, the same
exchange runs on the lab's SFTP server instead (``remote_outbox``/``remote_inbox``, the server
identified by ``sftp_host_key``; ``transports/sftp.py``) and the local folders stay unused.
Wire format: ``docs/interfaces/otofaktur_otoport.md``.
"""

import logging
import os
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from .base import BaseBackend, scan_content
from .exceptions import ConfigurationError, OrderRejected
from .labstatus import StatusTable, StatusUpdate
from .options import Option, OptionsSchema
from .labstatus import CANCELLATION_ACCEPTED, CANCELLATION_REFUSED
from .result import CancelResult, CancelStatus, DispatchResult, MessageResult, ResultStatus
from .transports import files, sftp
from .transports.files import validate_folder

logger = logging.getLogger(__name__)

FORMAT_VERSION = "1"
ORDER_SUFFIX = ".xml"
STATUS_SUFFIX = ".status.xml"
CANCEL_SUFFIX = ".cancel.xml"
MESSAGE_SUFFIX = ".message.xml"
#: How much of the lab's question or reason is kept (the order's message thread shows it).
LAB_TEXT_CHARS = 2000
#: A status file is a few hundred bytes; anything huge is not one.
STATUS_MAX_BYTES = 256 * 1024

#: The lab's ``<status>`` → our order status (the one status table of this lab).
STATUS_TABLE = StatusTable(
    {
        "received": "confirmed",
        "accepted": "confirmed",
        "in_production": "in_production",
        "shipped": "shipped",
        "rejected": "rejected_by_lab",
        "on_hold": "on_hold",
        "cancelled": "cancelled",
    }
)

#: Item fields of the order file: element name → (value attribute, label attribute).
ITEM_FIELDS = (
    ("product-family", "product_family", "product_family_label"),
    ("style", "style", "style_label"),
    ("material", "material", "material_label"),
    ("colour", "colour", None),
    ("vent-type", "vent_type", "vent_type_label"),
    ("vent-diameter-mm", "vent_diameter_mm", None),
    ("tube", "tube", "tube_label"),
    ("receiver-power", "receiver_power", None),
    ("receiver-length", "receiver_length", None),
    ("receiver-type", "receiver_type", None),
    ("shore-hardness", "shore_hardness", None),
    ("surface-finish", "surface_finish", "surface_finish_label"),
    ("acoustic-modification", "acoustic_modification", "acoustic_modification_label"),
    ("canal-length", "canal_length", "canal_length_label"),
    ("protection-filter", "protection_filter", "protection_filter_label"),
    ("extraction-cord", "extraction_cord", None),
    ("engraving", "engraving", None),
    ("quantity", "quantity", None),
    ("impression", "impression", None),
    ("impression-kind", "impression_kind", "impression_kind_label"),
    ("impression-box-label", "impression_reference", None),
    ("impression-tracking-number", "impression_tracking_number", None),
    ("scan-file", "scan_file_name", None),
    ("scan-format", "scan_format", None),
    ("scan-sha256", "scan_sha256", None),
    ("notes", "notes", None),
)
_UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = re.compile(rf"^{_UUID_PATTERN}$")
#: A cancellation's idempotency key: ``<order uuid>-storno-<sequence>`` (the file's name).
_CANCELLATION_KEY = re.compile(rf"^{_UUID_PATTERN}-storno-[0-9]{{1,6}}$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class ExchangePayload:
    """What goes into the outbox: ``(name, bytes)`` of the order file and of each scan."""

    order_file: tuple
    scans: tuple = ()


class InvalidStatusFile(ValueError):
    """A file in the inbox that is not a status file we can apply."""


class FolderOption(Option):
    def clean(self, value):
        value = super().clean(value)
        validate_folder(value)
        return value


class HostOption(Option):
    def clean(self, value):
        return sftp.validate_host(super().clean(value))


class RemoteFolderOption(Option):
    def clean(self, value):
        return sftp.validate_remote_folder(super().clean(value))


class HostKeyOption(Option):
    def clean(self, value):
        return sftp.host_key_line(sftp.parse_host_key(super().clean(value)))


LOCAL_OPTIONS = ("outbox_dir", "inbox_dir")
#: What SFTP needs besides ``sftp_host`` (``sftp_port`` has a default).
SFTP_REQUIRED = ("username", "password", "remote_outbox", "remote_inbox", "sftp_host_key")


class OtoportOptionsSchema(OptionsSchema):
    """The options, plus the rules between them: local folders or SFTP, each complete.

    Checked when a definition is saved (errors keyed by option) and again when the backend
    is built from stored options.
    """

    def validate(self, values, *, stored_secrets=None):
        values = dict(values or {})
        try:
            options, secrets = super().validate(values, stored_secrets=stored_secrets)
            errors = {}
        except ValidationError as exc:
            options, secrets, errors = {}, {}, dict(exc.error_dict)
        given = {name for name, option in self.by_name.items() if not option.is_empty(values.get(name))}
        given |= {name for name in self.secret_names if (stored_secrets or {}).get(name)}
        rules = self._sftp_rules if "sftp_host" in given else self._local_rules
        for name, message, code in rules(given, options):
            errors.setdefault(name, [ValidationError(message, code=code)])
        if errors:
            raise ValidationError(errors)
        return options, secrets

    def _label(self, name):
        return self.by_name[name].label

    def _sftp_rules(self, given, options):
        """``(option, message, code)`` for each broken rule of an SFTP definition."""
        for name in SFTP_REQUIRED:
            if name not in given:
                yield name, _("Für SFTP fehlt die Option „%(label)s“.") % {"label": self._label(name)}, "required"
        for name in LOCAL_OPTIONS:
            if name in given:
                # An unused folder next to SFTP would only mislead whoever reads the definition.
                yield (
                    name,
                    _("Mit SFTP wird kein lokaler Ordner verwendet; bitte „%(label)s“ leer lassen.")
                    % {"label": self._label(name)},
                    "sftp_and_local",
                )
        if "remote_outbox" in options and options["remote_outbox"] == options.get("remote_inbox"):
            yield "remote_inbox", _("Ausgangs- und Eingangsordner müssen verschieden sein."), "same_folder"

    def _local_rules(self, given, options):
        """``(option, message, code)`` for each broken rule of a local-folder definition."""
        for name in LOCAL_OPTIONS:
            if name not in given:
                yield (
                    name,
                    _("Die Option „%(label)s“ fehlt (oder einen SFTP-Server angeben).") % {"label": self._label(name)},
                    "required",
                )
        if all(name in options for name in LOCAL_OPTIONS):
            if validate_folder(options["outbox_dir"]) == validate_folder(options["inbox_dir"]):
                yield "inbox_dir", _("Ausgangs- und Eingangsordner müssen verschieden sein."), "same_folder"
        # The password is write-only and may linger from an earlier SFTP setup: harmless.
        for name in ("username", "remote_outbox", "remote_inbox", "sftp_host_key"):
            if name in given:
                yield (
                    name,
                    _(
                        "„%(label)s“ gilt nur zusammen mit einem SFTP-Server: bitte den SFTP-Server angeben "
                        "oder das Feld leeren."
                    )
                    % {"label": self._label(name)},
                    "sftp_only",
                )

    def json_schema(self):
        schema = super().json_schema()
        schema["anyOf"] = [
            {"required": list(LOCAL_OPTIONS)},
            {"required": ["sftp_host", *SFTP_REQUIRED]},
        ]
        return schema


class OtofakturOtoportBackend(BaseBackend):
    key = "otofaktur_otoport"
    label = "Otofaktur Otoport"
    description = gettext_lazy(
        "Dateiaustausch: die Bestellung als XML-Datei in einen Ausgangsordner, Rückmeldungen "
        "des Labors als Statusdateien aus einem Eingangsordner."
    )
    options = (
        FolderOption(
            "outbox_dir",
            gettext_lazy("Ausgangsordner"),
            required=False,
            help_text=gettext_lazy(
                "Innerhalb des freigegebenen Austauschordners (OTOORDER_EXCHANGE_ROOT). Leer lassen, wenn SFTP verwendet wird."
            ),
        ),
        FolderOption(
            "inbox_dir",
            gettext_lazy("Eingangsordner"),
            required=False,
            help_text=gettext_lazy("Hier legt das Labor Statusdateien ab; gelesene wandern nach „processed/“."),
        ),
        HostOption(
            "sftp_host",
            gettext_lazy("SFTP-Server"),
            required=False,
            help_text=gettext_lazy(
                "Nur wenn das Labor die Dateien per SFTP austauscht: Rechnername oder IP-Adresse des Servers."
            ),
        ),
        Option("sftp_port", gettext_lazy("SFTP-Port"), kind="int", required=False, default=sftp.DEFAULT_PORT, min_value=1, max_value=65535),
        Option("username", gettext_lazy("SFTP-Benutzername"), required=False),
        Option("password", gettext_lazy("SFTP-Passwort"), required=False, secret=True),
        RemoteFolderOption(
            "remote_outbox",
            gettext_lazy("Ausgangsordner auf dem SFTP-Server"),
            required=False,
            help_text=gettext_lazy("Hierhin werden die Bestelldateien hochgeladen, z. B. „otoport/out“."),
        ),
        RemoteFolderOption(
            "remote_inbox",
            gettext_lazy("Eingangsordner auf dem SFTP-Server"),
            required=False,
            help_text=gettext_lazy("Hier liegen die Statusdateien des Labors; gelesene wandern nach „processed/“."),
        ),
        HostKeyOption(
            "sftp_host_key",
            gettext_lazy("Serverschlüssel (SFTP)"),
            required=False,
            help_text=gettext_lazy(
                "Öffentlicher Schlüssel des Servers im known_hosts-Format, z. B. „ssh-ed25519 AAAA…“; "
                "beim Labor erfragen. Ein Server mit anderem Schlüssel wird abgelehnt."
            ),
        ),
    )
    supports_inbox = True
    accepts_scans = True
    supports_cancellation = True
    supports_lab_messages = True
    status_table = STATUS_TABLE

    @classmethod
    def options_schema(cls):
        return OtoportOptionsSchema(cls.options)

    @property
    def uses_sftp(self):
        return bool(self.config.get("sftp_host"))

    def _session(self):
        return sftp.SftpSession(
            self.config["sftp_host"],
            self.config["sftp_port"],
            self.config["username"],
            self.config["password"],
            self.config["sftp_host_key"],
            self.timeout,
        )

    # --- send ---------------------------------------------------------------------------

    def validate(self, document):
        super().validate(document)
        if not _UUID.match(document.order_id):
            # The file name is the order's UUID; anything else could name a path.
            raise OrderRejected(code="invalid_order_id")

    def scan_files(self, document):
        """``(name, bytes, content type)`` of each scan: ``<order uuid>.<side>.<ext>`` beside the order."""
        return [
            (outbox_scan_name(document, scan.filename), scan_content(scan), scan.content_type) for scan in document.scans
        ]

    def build_payload(self, document):
        """The files for the outbox: the scans first, the order file last."""
        scans = tuple((name, content) for name, content, _type in self.scan_files(document))
        return ExchangePayload(order_file=(f"{document.order_id}{ORDER_SUFFIX}", build_order_xml(document)), scans=scans)

    def transmit(self, payload, document):
        # Scans first: the order file is what the lab picks up, its scans must already be there.
        name, content = payload.order_file
        if self.uses_sftp:
            with self._session() as session:
                for scan_name, scan_bytes in payload.scans:
                    session.upload_atomic(self.config["remote_outbox"], scan_name, scan_bytes)
                return session.upload_atomic(self.config["remote_outbox"], name, content)
        outbox = files.folder(self.config["outbox_dir"], create=True)
        for scan_name, scan_bytes in payload.scans:
            files.atomic_write(outbox, scan_name, scan_bytes)
        return files.atomic_write(outbox, name, content)

    def parse_result(self, response, payload, document):
        name = os.path.basename(response)
        size = len(payload.order_file[1])
        if self.uses_sftp:
            address = f"{self.config['sftp_host']}:{self.config['sftp_port']}"
            return DispatchResult(
                ResultStatus.ORDERED,
                message=_("Bestelldatei %(name)s auf den SFTP-Server %(address)s hochgeladen.")
                % {"name": name, "address": address},
                request_summary={
                    "sftp_host": address,
                    "remote_outbox": self.config["remote_outbox"],
                    "file": name,
                    "bytes": size,
                },
                raw_response=_("Datei hochgeladen: %(path)s") % {"path": response},
            )
        return DispatchResult(
            ResultStatus.ORDERED,
            message=_("Bestelldatei %(name)s im Ausgangsordner abgelegt.") % {"name": name},
            request_summary={"outbox_dir": self.config["outbox_dir"], "file": name, "bytes": size},
            raw_response=_("Datei geschrieben: %(name)s") % {"name": name},
        )

    def _put(self, name, content):
        """Write one file into the outbox (local or SFTP), atomically; ``(summary, raw)``."""
        if self.uses_sftp:
            with self._session() as session:
                path = session.upload_atomic(self.config["remote_outbox"], name, content)
            address = f"{self.config['sftp_host']}:{self.config['sftp_port']}"
            summary = {"sftp_host": address, "remote_outbox": self.config["remote_outbox"], "file": name, "bytes": len(content)}
            return summary, _("Datei hochgeladen: %(path)s") % {"path": path}
        files.atomic_write(files.folder(self.config["outbox_dir"], create=True), name, content)
        summary = {"outbox_dir": self.config["outbox_dir"], "file": name, "bytes": len(content)}
        return summary, _("Datei geschrieben: %(name)s") % {"name": name}

    # --- cancellation and messages --------------------------------------------------------

    def cancel(self, request):
        """Write ``<key>.cancel.xml`` into the outbox; the lab answers with a status file.

        Named by the cancellation's idempotency key: a repeat replaces the file, never adds one.
        """
        if not _UUID.match(request.order.order_id) or not _CANCELLATION_KEY.match(request.idempotency_key):
            raise OrderRejected(code="invalid_cancellation_id")
        name = f"{request.idempotency_key.lower()}{CANCEL_SUFFIX}"
        summary, raw = self._put(name, build_cancellation_xml(request))
        return CancelResult(
            CancelStatus.PENDING,
            message=_("Stornierungsdatei %(name)s abgelegt; die Antwort des Labors folgt als Statusdatei.")
            % {"name": name},
            request_summary={**summary, "idempotency_key": request.idempotency_key},
            raw_response=raw,
        )

    def send_message(self, message):
        """Write ``<message id>.message.xml`` (staff's answer to a question) into the outbox."""
        message_id = str(message.message_id)
        if not _UUID.match(message_id) or not _UUID.match(message.order.order_id):
            raise OrderRejected(code="invalid_message_id")
        name = f"{message_id.lower()}{MESSAGE_SUFFIX}"
        summary, raw = self._put(name, build_message_xml(message))
        return MessageResult(
            message=_("Antwortdatei %(name)s für das Labor abgelegt.") % {"name": name},
            request_summary={**summary, "idempotency_key": message_id},
            raw_response=raw,
        )

    def check_connection(self):
        if self.uses_sftp:
            with self._session() as session:
                for option in ("remote_outbox", "remote_inbox"):
                    session.check_folder(self.config[option])
            return _(
                "Verbindung zum SFTP-Server %(address)s hergestellt; Ausgangs- und Eingangsordner sind "
                "vorhanden und beschreibbar."
            ) % {"address": session.address}
        for option in ("outbox_dir", "inbox_dir"):
            path = files.folder(self.config[option], create=True)
            if not os.access(path, os.W_OK | os.X_OK):
                raise ConfigurationError(code="folder_not_writable", params={"path": path})
        return _("Ausgangs- und Eingangsordner sind vorhanden und beschreibbar.")

    # --- answers ------------------------------------------------------------------------

    def read_inbox(self, apply=None):
        """Read the lab's status files; returns the entries applied.

        Each entry is ``{"order_id": <uuid>, "update": StatusUpdate, "file": <name>}``.
        ``apply(order_id, update)`` is called per file; when it returns, the file moves to
        ``processed/``; when it raises, the file stays for the next run. Without ``apply``
        every readable file is returned and moved. Unreadable files move to ``invalid/``.
        The same holds for the remote inbox when SFTP is configured.
        """
        if self.uses_sftp:
            with self._session() as session:
                return _read_inbox(RemoteInbox(session, self.config["remote_inbox"]), apply)
        return _read_inbox(LocalInbox(files.folder(self.config["inbox_dir"], create=True)), apply)


class LocalInbox:
    def __init__(self, folder):
        self.folder = folder

    def names(self):
        return [os.path.basename(path) for path in files.list_files(self.folder, STATUS_SUFFIX)]

    def read(self, name):
        with open(os.path.join(self.folder, name), "rb") as handle:
            return handle.read(STATUS_MAX_BYTES + 1)

    def move(self, name, subfolder):
        files.move_to(self.folder, os.path.join(self.folder, name), subfolder)


class RemoteInbox:
    def __init__(self, session, folder):
        self.session = session
        self.folder = folder

    def names(self):
        return self.session.list_files(self.folder, STATUS_SUFFIX)

    def read(self, name):
        return self.session.read(self.folder, name, STATUS_MAX_BYTES + 1)

    def move(self, name, subfolder):
        self.session.move_to(self.folder, name, subfolder)


def _read_inbox(inbox, apply):
    applied = []
    for name in inbox.names():
        try:
            order_id, update = parse_status_file(name, inbox.read(name))
        except InvalidStatusFile as exc:
            logger.warning("otoport: status file %s refused: %s", name, exc)
            inbox.move(name, files.INVALID)
            continue
        if apply is not None:
            try:
                apply(order_id, update)
            except Exception:
                logger.exception("otoport: applying status file %s failed; kept for the next run", name)
                continue
        inbox.move(name, files.PROCESSED)
        applied.append({"order_id": order_id, "update": update, "file": name})
    return applied


# --- the wire format ----------------------------------------------------------------------


def _clean(value):
    return _XML_ILLEGAL.sub("", str(value)).strip()


def _add(parent, tag, value, **attrs):
    """Add ``<tag>value</tag>`` unless the value is empty (absent = not given)."""
    text = _clean(value) if value is not None else ""
    if not text:
        return None
    element = etree.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items() if v and _clean(v)})
    element.text = text
    return element


def outbox_scan_name(document, filename):
    """``<order uuid>.<side>.<ext>``: unique in the outbox, never the customer's name."""
    return f"{document.order_id}.{filename}"


def _add_complaint(root, complaint):
    """``<complaint>`` of a remake: ears, reason, description, old mould, free-remake proposal."""
    if complaint is None:
        return
    element = etree.SubElement(root, "complaint")
    _add(element, "sides", ",".join(complaint.sides), label=complaint.sides_label)
    _add(element, "reason", complaint.reason_label, code=complaint.reason_code)
    _add(element, "description", complaint.description)
    _add(element, "return-old-mould", "true" if complaint.return_old_mould else "false")
    _add(
        element,
        "free-remake-proposed",
        "true" if complaint.free_remake else "false",
        until=complaint.free_remake_until.isoformat() if complaint.free_remake_until else "",
    )


def build_order_xml(document):
    """The ``otoport-order`` file for ``document`` as UTF-8 bytes."""
    root = etree.Element("otoport-order", version=FORMAT_VERSION)
    for tag, value in (
        ("order-id", document.order_id),
        ("order-number", document.order_number),
        ("order-type", document.order_type),
        ("priority", document.priority),
        ("created-at", document.created_at.isoformat(timespec="seconds")),
        ("date-required", document.date_required.isoformat() if document.date_required else ""),
        ("customer-reference", document.customer_reference),
        ("supplier-account", document.supplier_account),
        ("prescriber", document.prescriber),
        ("original-order-number", document.original_order_number),
        ("original-lab-order-number", document.original_lab_reference),
        ("reason", document.reason),
        ("reason-code", document.reason_code),
        ("reason-category", document.reason_category),
    ):
        _add(root, tag, value)
    _add_complaint(root, document.complaint)
    for tag, party in (("branch", document.branch), ("supplier", document.supplier)):
        element = etree.SubElement(root, tag)
        _add(element, "name", party.name)
        for line in party.address_lines:
            if _clean(line) != _clean(party.name):
                _add(element, "address-line", line)
        for tag_name, value in (("email", party.email), ("phone", party.phone), ("fax", party.fax)):
            _add(element, tag_name, value)
    _add(root, "notes", document.notes)
    items = etree.SubElement(root, "items")
    for item in document.items:
        element = etree.SubElement(items, "item", side=item.side)
        _add(element, "side", item.side, label=item.side_label)
        codes = item.lab_codes
        for tag, value_attr, label_attr in ITEM_FIELDS:
            label = getattr(item, label_attr) if label_attr else ""
            value = getattr(item, value_attr)
            if isinstance(value, bool):
                value = "true" if value else ""
            if value_attr == "scan_file_name" and value:
                value = outbox_scan_name(document, value)  # the file next to this one in the outbox
            # ``code``: the lab's own code of the value, from its catalogue.
            _add(element, tag, value, label=label, code=codes.get(value_attr, ""))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_cancellation_xml(request):
    """The ``otoport-cancellation`` file of a ``CancellationDocument`` as UTF-8 bytes."""
    root = etree.Element("otoport-cancellation", version=FORMAT_VERSION)
    for tag, value in (
        ("cancellation-id", request.idempotency_key.lower()),
        ("order-id", request.order.order_id.lower()),
        ("order-number", request.order.order_number),
        ("lab-order-number", request.lab_reference),
        ("sequence", str(request.sequence)),
        ("requested-at", request.requested_at.isoformat(timespec="seconds")),
        ("reason", request.reason),
    ):
        _add(root, tag, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_message_xml(message):
    """The ``otoport-message`` file of a ``MessageDocument`` (staff's answer) as UTF-8 bytes."""
    root = etree.Element("otoport-message", version=FORMAT_VERSION)
    for tag, value in (
        ("message-id", str(message.message_id).lower()),
        ("order-id", message.order.order_id.lower()),
        ("order-number", message.order.order_number),
        ("lab-order-number", message.lab_reference),
        ("in-reply-to", message.in_reply_to),
        ("author", message.author),
        ("sent-at", message.sent_at.isoformat(timespec="seconds")),
        ("question", message.question),
        ("text", message.text),
    ):
        _add(root, tag, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _element_text(root, tag, limit):
    return (root.findtext(tag) or "").strip()[:limit]


def parse_status_file(name, raw):
    """``(order_id, StatusUpdate)`` of the status file ``name`` with content ``raw``."""
    file_id = name[: -len(STATUS_SUFFIX)]
    if not name.endswith(STATUS_SUFFIX) or not _UUID.match(file_id):
        raise InvalidStatusFile("file name is not <order uuid>.status.xml")
    if len(raw) > STATUS_MAX_BYTES:
        raise InvalidStatusFile("file too large")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidStatusFile(f"not XML: {exc}") from exc
    if root.tag != "otoport-status":
        raise InvalidStatusFile(f"root element is {root.tag!r}, expected 'otoport-status'")
    order_id = (root.findtext("order-id") or "").strip()
    if order_id.lower() != file_id.lower():
        raise InvalidStatusFile("order-id does not match the file name")
    lab_status = (root.findtext("status") or "").strip()
    status = STATUS_TABLE.normalise(lab_status)
    cancellation = _element_text(root, "cancellation", 20).lower()
    if cancellation not in ("", CANCELLATION_ACCEPTED, CANCELLATION_REFUSED):
        raise InvalidStatusFile(f"unknown cancellation answer {cancellation!r}")
    if status == "cancelled":
        cancellation = CANCELLATION_ACCEPTED
    if cancellation == CANCELLATION_ACCEPTED and status is None and not lab_status:
        status = "cancelled"
    if status is None and not (cancellation == CANCELLATION_REFUSED and not lab_status):
        # Only a refused cancellation may come without a status (the order stays where it was).
        raise InvalidStatusFile(f"unknown status {lab_status!r}")
    if cancellation == CANCELLATION_ACCEPTED and status != "cancelled":
        raise InvalidStatusFile("an accepted cancellation with another status than cancelled")
    reference = (root.findtext("lab-order-number") or "").strip()
    tracking = (root.findtext("tracking-number") or "").strip()
    lab_message = (root.findtext("message") or "").strip()
    lab_text, lab_message_id = "", ""
    if status == "on_hold":
        lab_text = _element_text(root, "question", LAB_TEXT_CHARS)
        lab_message_id = _element_text(root, "question-id", 100)
    elif cancellation:
        lab_text = _element_text(root, "cancellation-message", LAB_TEXT_CHARS) or (
            _element_text(root, "message", LAB_TEXT_CHARS) if cancellation == CANCELLATION_REFUSED else ""
        )
    if cancellation == CANCELLATION_REFUSED:
        message = _("Das Labor lehnt die Stornierung ab.")
        if lab_text:
            message = _("Das Labor lehnt die Stornierung ab: %(message)s") % {"message": lab_text[:300]}
        if lab_status:
            message += " " + _("Otoport meldet „%(status)s“.") % {"status": lab_status}
        lab_message = ""
    else:
        message = _("Otoport meldet „%(status)s“.") % {"status": lab_status}
    if reference:
        message += " " + _("Auftragsnummer des Labors: %(ref)s.") % {"ref": reference}
    if tracking:
        message += " " + _("Sendungsnummer: %(tracking)s.") % {"tracking": tracking}
    if lab_message:
        message += " " + lab_message[:300]
    return order_id.lower(), StatusUpdate(
        status=status,
        external_status=lab_status,
        external_reference=reference,
        tracking_number=tracking,
        message=message,
        raw_response=raw.decode("utf-8", errors="replace"),
        cancellation=cancellation,
        lab_text=lab_text,
        lab_message_id=lab_message_id,
    )
