"""The PDF order form (Bestellformular) of the standard ordering process, drawn with reportlab."""

from io import BytesIO

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

PRIORITY_LABELS = {"standard": "Standard", "express": "Express"}
ORDER_TYPE_LABELS = {
    "new": "Neuanfertigung",
    "remake": "Reklamation/Nachfertigung",
    "modification": "Änderung",
    "reorder_from_scan": "Nachbestellung aus gespeichertem Scan",
    "repair": "Reparatur",
}


def _with_code(item, field, text):
    """The value as staff read it, plus the lab's own code where its catalogue names one."""
    code = item.lab_codes.get(field)
    return f"{text} [{code}]" if text and code else text


def item_rows(item, scan_note=""):
    """The specification of one ear as (label, value) rows; empty values are left out.

    ``scan_note`` says how the ear's scan file reaches the lab (attached, or separately)."""
    vent = f"{item.vent_type_label} {item.vent_diameter_mm} mm" if item.vent_diameter_mm else item.vent_type_label
    material = item.material_label
    if item.shore_hardness:
        material = f"{material}, {item.shore_hardness} Shore A"
    receiver = " / ".join(
        part
        for part in (
            item.receiver_type,
            _("Leistung %(power)s") % {"power": item.receiver_power} if item.receiver_power else "",
            _("Länge %(length)s") % {"length": item.receiver_length} if item.receiver_length else "",
        )
        if part
    )
    modification = item.acoustic_modification_label if item.acoustic_modification not in ("", "none") else ""
    protection_filter = item.protection_filter_label if item.protection_filter not in ("", "none") else ""
    rows = [
        (_("Produktart"), _with_code(item, "product_family", item.product_family_label)),
        (_("Bauform"), _with_code(item, "style", item.style_label)),
        (_("Material"), _with_code(item, "material", material)),
        (_("Farbe"), _with_code(item, "colour", item.colour)),
        (_("Oberfläche"), _with_code(item, "surface_finish", item.surface_finish_label)),
        (_("Zusatzbohrung"), _with_code(item, "vent_type", vent if item.vent_type != "none" or item.vent_diameter_mm else "")),
        (_("Schlauch"), _with_code(item, "tube", item.tube_label)),
        (_("Akustische Modifikation"), _with_code(item, "acoustic_modification", modification)),
        (_("Gehörgangslänge"), _with_code(item, "canal_length", item.canal_length_label)),
        (_("Hörer (Ex-Hörer)"), _with_code(item, "receiver_power", receiver)),
        (_("Filter"), _with_code(item, "protection_filter", protection_filter)),
        (_("Rückholfaden"), _("ja") if item.extraction_cord else ""),
        (_("Gravur"), item.engraving),
        (_("Menge"), str(item.quantity)),
        (_("Abdruck/Scan"), impression_text(item, scan_note)),
        (_("Hinweis"), item.notes),
    ]
    return [(label, value) for label, value in rows if value]


def _yes_no(value):
    return _("ja") if value else _("nein")


def complaint_rows(document):
    """The "Reklamation" section of a remake from a complaint: what the lab decides on."""
    complaint = document.complaint
    reason = f"{complaint.reason_label} ({complaint.reason_code})" if complaint.reason_code else complaint.reason_label
    if complaint.free_remake and complaint.free_remake_until:
        proposal = _("ja, innerhalb der Frist für kostenlose Nachfertigung bis %(date)s") % {
            "date": complaint.free_remake_until.strftime("%d.%m.%Y")
        }
    elif complaint.free_remake:
        proposal = _("ja, innerhalb der Frist für kostenlose Nachfertigung")
    elif complaint.free_remake_until:
        proposal = _("nein, die Frist für kostenlose Nachfertigung endete am %(date)s") % {
            "date": complaint.free_remake_until.strftime("%d.%m.%Y")
        }
    else:
        proposal = _("nein, außerhalb der Frist für kostenlose Nachfertigung")
    rows = [
        (_("Reklamationsgrund"), reason),
        (_("Kategorie"), document.reason_category_label or document.reason_category),
        (_("Reklamierte Seite(n)"), complaint.sides_label),
        (_("Beschreibung"), complaint.description),
        (_("Ihre Auftragsnummer der ursprünglichen Bestellung"), document.original_lab_reference),
        (_("Unsere ursprüngliche Bestellung"), document.original_order_number),
        (_("Alte Otoplastik geht an Sie zurück"), _yes_no(complaint.return_old_mould)),
        (_("Kostenlose Nachfertigung vorgeschlagen"), proposal),
    ]
    return [(label, value) for label, value in rows if value]


def impression_text(item, scan_note=""):
    """What the lab needs to find the ear's impression: the box label and parcel, or the file
    (and, in an e-mail, whether the file is attached)."""
    lines = [item.impression_kind_label, item.impression]
    if item.impression_reference:
        lines.append(_("Etikett: %(label)s") % {"label": item.impression_reference})
    if item.impression_tracking_number:
        lines.append(_("Sendungsnummer: %(number)s") % {"number": item.impression_tracking_number})
    if item.scan_file_name:
        fmt = item.scan_format.replace("_", " ").upper() if item.scan_format else ""
        lines.append(_("Datei: %(name)s %(format)s") % {"name": item.scan_file_name, "format": fmt})
        if scan_note:
            lines.append(scan_note)
    if item.scan_sha256:
        # Split in halves: 64 hex digits in one piece are wider than the value column.
        lines.append(f"SHA-256: {item.scan_sha256[:32]} {item.scan_sha256[32:]}")
    return "\n".join(line for line in lines if line)


def header_rows(document):
    rows = [
        (_("Bestellnummer"), document.order_number),
        (_("Datum"), document.created_at.strftime("%d.%m.%Y")),
        (_("Besteller (Filiale)"), "\n".join(document.branch.address_lines)),
        (_("Lieferant"), document.supplier.name),
        (_("Unsere Kundennummer"), document.supplier_account or _("– nicht hinterlegt –")),
        (_("Kundenreferenz"), document.customer_reference),
        (_("Bestellart"), document.order_type_label or ORDER_TYPE_LABELS.get(document.order_type, document.order_type)),
        (_("Ursprüngliche Bestellung"), document.original_order_number),
        # A complaint's section names it (with the reason); other remakes and changes here.
        (_("Ihre Auftragsnummer der ursprünglichen Bestellung"), "" if document.complaint else document.original_lab_reference),
        (_("Grund der Reklamation/Änderung"), document.reason),
        (_("Priorität"), document.priority_label or PRIORITY_LABELS.get(document.priority, document.priority)),
        (_("benötigt bis"), document.date_required.strftime("%d.%m.%Y") if document.date_required else ""),
        (_("Verantwortlicher Akustiker"), document.prescriber),
        (_("Bestell-ID"), document.order_id),
    ]
    return [(label, value) for label, value in rows if value]


class _FormWriter:
    """Draws label/value tables and headings top-down on A4 pages, breaking pages as needed.

    Drawn on the canvas directly rather than with platypus: the form is a fixed layout, and
    the order form is produced for every standard order on the dispatch path.
    """

    LEFT, TOP, BOTTOM = 18 * mm, A4[1] - 16 * mm, 16 * mm
    LABEL_WIDTH, VALUE_WIDTH = 55 * mm, 119 * mm
    FONT, BOLD, SIZE, LEADING, PAD = "Helvetica", "Helvetica-Bold", 10, 12, 3

    def __init__(self, canvas):
        self.canvas = canvas
        self.y = self.TOP

    def _room(self, height):
        if self.y - height < self.BOTTOM:
            self.canvas.showPage()
            self.y = self.TOP

    def heading(self, text, size=16, space_before=0):
        self.y -= space_before
        self._room(size * 1.6)
        self.y -= size * 1.2
        self.canvas.setFont(self.BOLD, size)
        self.canvas.drawString(self.LEFT, self.y, str(text))
        self.y -= size * 0.5

    def paragraph(self, text):
        for line in self._lines(text, self.LABEL_WIDTH + self.VALUE_WIDTH):
            self._room(self.LEADING)
            self.y -= self.LEADING
            self.canvas.setFont(self.FONT, self.SIZE)
            self.canvas.drawString(self.LEFT, self.y, line)

    def table(self, rows):
        canvas, x_value = self.canvas, self.LEFT + self.LABEL_WIDTH
        right = x_value + self.VALUE_WIDTH
        for label, value in rows:
            labels = self._lines(label, self.LABEL_WIDTH - 2 * self.PAD)
            values = self._lines(value, self.VALUE_WIDTH - 2 * self.PAD)
            height = max(len(labels), len(values)) * self.LEADING + 2 * self.PAD
            self._room(height)
            top, bottom = self.y, self.y - height
            canvas.setFillColor(colors.whitesmoke)
            canvas.rect(self.LEFT, bottom, self.LABEL_WIDTH, height, stroke=0, fill=1)
            canvas.setFillColor(colors.black)
            canvas.setStrokeColor(colors.grey)
            canvas.setLineWidth(0.25)
            canvas.rect(self.LEFT, bottom, right - self.LEFT, height, stroke=1, fill=0)
            canvas.line(x_value, bottom, x_value, top)
            canvas.setFont(self.FONT, self.SIZE)
            for column_x, lines in ((self.LEFT, labels), (x_value, values)):
                baseline = top - self.PAD - self.SIZE
                for line in lines:
                    canvas.drawString(column_x + self.PAD, baseline, line)
                    baseline -= self.LEADING
            self.y = bottom

    def _lines(self, text, width):
        lines = []
        for part in str(text).split("\n"):
            lines += simpleSplit(part, self.FONT, self.SIZE, width) or [""]
        return lines


def render_order_form(document, scan_notes=None):
    """Return the order form of ``document`` as PDF bytes; ``scan_notes`` maps a side to the
    sentence that says how that ear's scan file reaches the lab."""
    scan_notes = scan_notes or {}
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    canvas.setTitle(f"Otoplastik-Bestellung {document.order_number}")
    canvas.setAuthor("otoorder")
    form = _FormWriter(canvas)
    form.heading(_("Otoplastik-Bestellung %(number)s") % {"number": document.order_number})
    form.table(header_rows(document))
    if document.complaint:
        form.heading(_("Reklamation"), size=13, space_before=6 * mm)
        form.table(complaint_rows(document))
    for item in document.items:
        form.heading(_("Ohr: %(side)s") % {"side": item.side_label}, size=13, space_before=6 * mm)
        form.table(item_rows(item, scan_notes.get(item.side, "")))
    if document.attachments:
        form.heading(_("Anhänge"), size=13, space_before=6 * mm)
        form.paragraph("\n".join(attachment.name for attachment in document.attachments))
    if document.notes:
        form.heading(_("Hinweise an das Labor"), size=13, space_before=6 * mm)
        form.paragraph(document.notes)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_cancellation_form(request):
    """The cancellation (Stornierung) of ``request``'s order as PDF bytes.

    Marked unmistakably: a red "STORNO" stamp and heading on top, then the reason, the
    order's header and its ears, so the lab can match it to the order form it has.
    """
    document = request.order
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    canvas.setTitle(f"STORNO Otoplastik-Bestellung {document.order_number}")
    canvas.setAuthor("otoorder")
    _stamp(canvas)
    form = _FormWriter(canvas)
    form.heading(_("STORNO / Stornierung der Bestellung %(number)s") % {"number": document.order_number})
    form.paragraph(
        _("Bitte stornieren Sie die folgende Otoplastik-Bestellung und bestätigen Sie uns die Stornierung.")
    )
    form.table(cancellation_rows(request))
    form.heading(_("Stornierte Bestellung"), size=13, space_before=6 * mm)
    form.table(header_rows(document))
    for item in document.items:
        form.heading(_("Ohr: %(side)s") % {"side": item.side_label}, size=13, space_before=6 * mm)
        form.table(item_rows(item))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def cancellation_rows(request):
    rows = [
        (_("Stornierungsgrund"), request.reason),
        (_("Auftragsnummer des Labors"), request.lab_reference),
        (_("Storniert am"), request.requested_at.strftime("%d.%m.%Y %H:%M")),
        (_("Stornierungs-ID"), request.idempotency_key),
    ]
    return [(label, value) for label, value in rows if value]


def _stamp(canvas):
    """A red, rotated "STORNO" across the first page (drawn first, the text stays readable)."""
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.25))
    canvas.setStrokeColor(colors.Color(0.85, 0.1, 0.1, alpha=0.6))
    canvas.translate(A4[0] / 2, A4[1] / 2)
    canvas.rotate(35)
    canvas.setFont("Helvetica-Bold", 110)
    canvas.drawCentredString(0, -40, "STORNO")
    canvas.restoreState()
