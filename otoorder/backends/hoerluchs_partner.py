"""Hörluchs-Partner Bestell-System: multipart over HTTPS — the order as JSON plus scan files.

* ``POST <endpoint_url>/auftraege`` as ``multipart/form-data`` with HTTP basic auth and
  ``Idempotency-Key: <order uuid>``: part ``order`` is the order as JSON, each scan of a
  digital impression is one further part ``scan`` with its file name;
* answer ``{"auftragsnummer": "…"}`` → *confirmed*, an empty 2xx → *ordered*;
* ``POST <endpoint_url>/auftraege/<ref>/stornierung`` (Idempotency-Key: the cancellation's
  key, ``{"grund": …}``) → ``{"status": "storniert"}`` or ``{"status": "abgelehnt",
  "meldung": …}``; ``POST <endpoint_url>/auftraege/<ref>/nachrichten`` (Idempotency-Key: the
  message's id): staff's answer to a question the lab asked by phone or mail;
* ``GET <endpoint_url>/ping`` for "Verbindung testen".

Wire format: ``docs/interfaces/hoerluchs_partner.md``.
"""

from django.utils.translation import gettext_lazy

from .result import CancelStatus

from .base import scan_content
from .labstatus import StatusTable
from .transports.http import (
    BASIC_AUTH_OPTIONS,
    BasicAuthHttpBackend,
    HttpRequest,
    LabChannelMixin,
    endpoint_option,
    json_bytes,
)

FORMAT_VERSION = "1"

#: Hörluchs' statuses → our order statuses.
STATUS_TABLE = StatusTable(
    {
        "eingegangen": "ordered",
        "angenommen": "confirmed",
        "in_fertigung": "in_production",
        "versandt": "shipped",
        "abgelehnt": "rejected_by_lab",
    }
)

#: Our item fields → Hörluchs' names (the German vocabulary of the partner system).
ITEM_FIELDS = {
    "side": "seite",
    "product_family": "produktfamilie",
    "style": "bauform",
    "material": "material",
    "colour": "farbe",
    "vent_type": "zusatzbohrung",
    "vent_diameter_mm": "bohrung_mm",
    "tube": "schlauch",
    "receiver_power": "hoerer_staerke",
    "receiver_length": "hoerer_laenge",
    "receiver_type": "hoerer_typ",
    "shore_hardness": "shore_a",
    "surface_finish": "oberflaeche",
    "acoustic_modification": "akustik_modifikation",
    "canal_length": "gehoergangslaenge",
    "protection_filter": "filter",
    "extraction_cord": "rueckholfaden",
    "engraving": "gravur",
    "quantity": "menge",
    "impression": "abdruck",
    "impression_kind": "abdruck_art",
    "impression_reference": "abdruck_etikett",
    "impression_tracking_number": "abdruck_sendungsnummer",
    "scan_file_name": "scan_datei",
    "scan_format": "scan_format",
    "scan_sha256": "scan_sha256",
    "notes": "bemerkung",
    "lab_codes": "labor_codes",
}
#: The German labels that go along with coded fields, so a person at the lab can read them.
LABEL_FIELDS = {
    "side_label": "seite_text",
    "product_family_label": "produktfamilie_text",
    "style_label": "bauform_text",
    "material_label": "material_text",
    "vent_type_label": "zusatzbohrung_text",
    "tube_label": "schlauch_text",
    "surface_finish_label": "oberflaeche_text",
    "acoustic_modification_label": "akustik_modifikation_text",
    "canal_length_label": "gehoergangslaenge_text",
    "protection_filter_label": "filter_text",
    "impression_kind_label": "abdruck_art_text",
}


def reklamation(complaint):
    """The complaint of a remake in Hörluchs' words (``None`` for other orders)."""
    if complaint is None:
        return None
    return {
        "seiten": list(complaint.sides),
        "grund_code": complaint.reason_code,
        "grund_text": complaint.reason_label,
        "beschreibung": complaint.description,
        "alte_otoplastik_zurueck": complaint.return_old_mould,
        "kostenlose_nachfertigung": complaint.free_remake,
        "kostenlos_bis": complaint.free_remake_until.isoformat() if complaint.free_remake_until else None,
    }


def order_body(document, scans=()):
    return {
        "format_version": FORMAT_VERSION,
        "bestell_id": document.order_id,
        "bestellnummer": document.order_number,
        "auftragsart": document.order_type,
        "prioritaet": document.priority,
        "erstellt_am": document.created_at.isoformat(),
        "liefertermin": document.date_required.isoformat() if document.date_required else None,
        "kundennummer": document.supplier_account,
        "kundenreferenz": document.customer_reference,
        "verordner": document.prescriber,
        "bemerkung": document.notes,
        "ursprungsauftrag": document.original_order_number,
        "ursprungsauftrag_labor": document.original_lab_reference,
        "grund": document.reason,
        "grund_code": document.reason_code,
        "grund_kategorie": document.reason_category,
        "reklamation": reklamation(document.complaint),
        "filiale": {
            "name": document.branch.name,
            "anschrift": list(document.branch.address_lines),
            "email": document.branch.email,
            "telefon": document.branch.phone,
        },
        "positionen": [
            {
                **{theirs: getattr(item, ours) for ours, theirs in ITEM_FIELDS.items()},
                **{theirs: getattr(item, ours) for ours, theirs in LABEL_FIELDS.items()},
            }
            for item in document.items
        ],
        "scans": [
            {
                "dateiname": scan.filename,
                "seite": scan.side,
                **({"sha256": scan.sha256} if scan.sha256 else {}),
            }
            for scan in scans
        ],
    }


class HoerluchsPartnerBackend(LabChannelMixin, BasicAuthHttpBackend):
    key = "hoerluchs_partner"
    label = "Hörluchs-Partner Bestell-System"
    description = gettext_lazy(
        "Bestellung im Hörluchs-Partner Bestell-System: Auftrag als JSON mit den Scan-Dateien "
        "digitaler Abformungen (multipart über HTTPS)."
    )
    options = (
        endpoint_option(help_text=gettext_lazy("Basisadresse des Partner-Systems, z. B. https://partner.hoerluchs.example/api")),
        *BASIC_AUTH_OPTIONS,
    )
    accepts_scans = True
    status_table = STATUS_TABLE
    order_path = "auftraege/{ref}"
    cancel_path = "stornierung"
    message_path = "nachrichten"
    cancel_answers = {"storniert": CancelStatus.ACCEPTED, "abgelehnt": CancelStatus.REFUSED}

    def cancellation_payload(self, request):
        return self.json_request(
            request.order,
            request.lab_reference,
            self.cancel_path,
            {
                "storno_id": request.idempotency_key,
                "bestell_id": request.order.order_id,
                "bestellnummer": request.order.order_number,
                "auftragsnummer": request.lab_reference,
                "laufnummer": request.sequence,
                "grund": request.reason,
                "angefragt_am": request.requested_at.isoformat(),
            },
        )

    def message_payload(self, message):
        return self.json_request(
            message.order,
            message.lab_reference,
            self.message_path,
            {
                "nachricht_id": message.message_id,
                "bestell_id": message.order.order_id,
                "bestellnummer": message.order.order_number,
                "auftragsnummer": message.lab_reference,
                "antwort_auf": message.in_reply_to,
                "autor": message.author,
                "text": message.text,
                "gesendet_am": message.sent_at.isoformat(),
            },
        )

    def read_message_answer(self, response):
        if not response.content.strip():
            return ""
        answer = self.read_json(response)
        return str(answer.get("nachricht_id") or answer.get("id") or "").strip()[:100]

    def http_headers(self):
        return {"Accept": "application/json"}

    def scan_files(self, document):
        """``(file name, bytes, content type)`` of each scan of the order's digital impressions."""
        return [(scan.filename, scan_content(scan), scan.content_type) for scan in document.scans]

    def build_payload(self, document):
        files = self.scan_files(document)
        body = json_bytes(order_body(document, document.scans))
        parts = [("order", ("order.json", body, "application/json; charset=utf-8"))]
        parts += [("scan", scan_file) for scan_file in files]
        return HttpRequest(
            url=self.url("auftraege"),
            headers={},
            files=parts,
            summary={
                "order_bytes": len(body),
                "items": len(document.items),
                "scans": len(files),
                "scan_bytes": sum(len(content) for _name, content, _type in files),
            },
        )

    def parse_result(self, response, payload, document):
        if response.content.strip():
            answer = self.read_json(response)
            reference = str(answer.get("auftragsnummer") or "").strip()
            lab_status = str(answer.get("status") or "").strip()
            lab_message = str(answer.get("meldung") or "").strip()
        else:
            reference = lab_status = lab_message = ""
        return self.answer_result(
            response, payload, document, reference=reference, lab_status=lab_status, lab_message=lab_message
        )
