"""Otofaktur Otoport: file exchange through an outbox and an inbox folder.

* send: ``<order uuid>.xml`` (format ``otoport-order`` version 1) is written atomically into
  ``outbox_dir``; a re-send replaces the file, so the lab never sees the order twice;
  result *ordered* (the lab's number comes back in a status file);
* answers: the lab writes ``<order uuid>.status.xml`` (format ``otoport-status``) into
  ``inbox_dir``; :meth:`OtofakturOtoportBackend.read_inbox` (called by a periodic task)
  maps each through :data:`STATUS_TABLE` and moves it to ``processed/`` once applied,
  or to ``invalid/`` when it cannot be read.

Both folders must lie inside ``OTOORDER_EXCHANGE_ROOT``. Local folders only (no SFTP).
Wire format: ``docs/interfaces/otofaktur_otoport.md``.
"""

import logging
import os
import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from .base import BaseBackend
from .exceptions import ConfigurationError, OrderRejected
from .labstatus import StatusTable, StatusUpdate
from .options import Option
from .result import DispatchResult, ResultStatus
from .transports import files
from .transports.files import validate_folder

logger = logging.getLogger(__name__)

FORMAT_VERSION = "1"
ORDER_SUFFIX = ".xml"
STATUS_SUFFIX = ".status.xml"
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
    ("quantity", "quantity", None),
    ("impression", "impression", None),
    ("notes", "notes", None),
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class InvalidStatusFile(ValueError):
    """A file in the inbox that is not a status file we can apply."""


class FolderOption(Option):
    def clean(self, value):
        value = super().clean(value)
        validate_folder(value)
        return value


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
            help_text=gettext_lazy("Innerhalb des freigegebenen Austauschordners (OTOORDER_EXCHANGE_ROOT)."),
        ),
        FolderOption(
            "inbox_dir",
            gettext_lazy("Eingangsordner"),
            help_text=gettext_lazy("Hier legt das Labor Statusdateien ab; gelesene wandern nach „processed/“."),
        ),
    )
    supports_status_poll = True
    status_table = STATUS_TABLE

    def __init__(self, options=None, *, timeout=30.0):
        super().__init__(options, timeout=timeout)
        if validate_folder(self.config["outbox_dir"]) == validate_folder(self.config["inbox_dir"]):
            raise ConfigurationError(_("Ausgangs- und Eingangsordner müssen verschieden sein."))

    # --- send ---------------------------------------------------------------------------

    def validate(self, document):
        super().validate(document)
        if not _UUID.match(document.order_id):
            # The file name is the order's UUID; anything else could name a path.
            raise OrderRejected(_("Die Bestellung hat keine gültige Kennung (UUID)."))

    def build_payload(self, document):
        return build_order_xml(document)

    def transmit(self, payload, document):
        outbox = files.folder(self.config["outbox_dir"], create=True)
        return files.atomic_write(outbox, f"{document.order_id}{ORDER_SUFFIX}", payload)

    def parse_result(self, response, payload, document):
        name = os.path.basename(response)
        return DispatchResult(
            ResultStatus.ORDERED,
            message=_("Bestelldatei %(name)s im Ausgangsordner abgelegt.") % {"name": name},
            request_summary={"outbox_dir": self.config["outbox_dir"], "file": name, "bytes": len(payload)},
            raw_response=_("Datei geschrieben: %(name)s") % {"name": name},
        )

    def check_connection(self):
        for option in ("outbox_dir", "inbox_dir"):
            path = files.folder(self.config[option], create=True)
            if not os.access(path, os.W_OK | os.X_OK):
                raise ConfigurationError(_("In den Ordner %(path)s kann nicht geschrieben werden.") % {"path": path})
        return _("Ausgangs- und Eingangsordner sind vorhanden und beschreibbar.")

    # --- answers ------------------------------------------------------------------------

    def read_inbox(self, apply=None):
        """Read the lab's status files; returns the entries applied.

        Each entry is ``{"order_id": <uuid>, "update": StatusUpdate, "file": <name>}``.
        ``apply(order_id, update)`` is called per file; when it returns, the file moves to
        ``processed/``; when it raises, the file stays for the next run. Without ``apply``
        every readable file is returned and moved. Unreadable files move to ``invalid/``.
        """
        inbox = files.folder(self.config["inbox_dir"], create=True)
        applied = []
        for path in files.list_files(inbox, STATUS_SUFFIX):
            name = os.path.basename(path)
            try:
                order_id, update = read_status_file(path)
            except InvalidStatusFile as exc:
                logger.warning("otoport: status file %s refused: %s", name, exc)
                files.move_to(inbox, path, files.INVALID)
                continue
            if apply is not None:
                try:
                    apply(order_id, update)
                except Exception:
                    logger.exception("otoport: applying status file %s failed; kept for the next run", name)
                    continue
            files.move_to(inbox, path, files.PROCESSED)
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
    ):
        _add(root, tag, value)
    for tag, party in (("branch", document.branch), ("supplier", document.supplier)):
        element = etree.SubElement(root, tag)
        _add(element, "name", party.name)
        for line in party.address_lines:
            if _clean(line) != _clean(party.name):
                _add(element, "address-line", line)
        for field_name in ("email", "phone", "fax"):
            _add(element, field_name, getattr(party, field_name))
    _add(root, "notes", document.notes)
    items = etree.SubElement(root, "items")
    for item in document.items:
        element = etree.SubElement(items, "item", side=item.side)
        _add(element, "side", item.side, label=item.side_label)
        for tag, value_attr, label_attr in ITEM_FIELDS:
            label = getattr(item, label_attr) if label_attr else ""
            _add(element, tag, getattr(item, value_attr), label=label)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def read_status_file(path):
    """``(order_id, StatusUpdate)`` of one ``otoport-status`` file; ``InvalidStatusFile`` if not one."""
    name = os.path.basename(path)
    file_id = name[: -len(STATUS_SUFFIX)]
    if not _UUID.match(file_id):
        raise InvalidStatusFile("file name is not <order uuid>.status.xml")
    with open(path, "rb") as handle:
        raw = handle.read(STATUS_MAX_BYTES + 1)
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
    if status is None:
        raise InvalidStatusFile(f"unknown status {lab_status!r}")
    reference = (root.findtext("lab-order-number") or "").strip()
    tracking = (root.findtext("tracking-number") or "").strip()
    lab_message = (root.findtext("message") or "").strip()
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
    )
