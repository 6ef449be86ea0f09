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


def item_rows(item):
    """The specification of one ear as (label, value) rows; empty values are left out."""
    rows = [
        (_("Produktart"), item.product_family_label),
        (_("Bauform"), item.style_label),
        (_("Material"), item.material_label),
        (_("Farbe"), item.colour),
        (_("Zusatzbohrung"), f"{item.vent_type_label} {item.vent_diameter_mm} mm" if item.vent_diameter_mm else item.vent_type_label),
        (_("Schlauch"), item.tube_label),
        (_("Hörerleistung"), item.receiver_power),
        (_("Hörerlänge"), item.receiver_length),
        (_("Menge"), str(item.quantity)),
        (_("Abdruck/Scan"), item.impression),
        (_("Hinweis"), item.notes),
    ]
    return [(label, value) for label, value in rows if value]


def header_rows(document):
    rows = [
        (_("Bestellnummer"), document.order_number),
        (_("Datum"), document.created_at.strftime("%d.%m.%Y")),
        (_("Besteller (Filiale)"), "\n".join(document.branch.address_lines)),
        (_("Lieferant"), document.supplier.name),
        (_("Unsere Kundennummer"), document.supplier_account or _("– nicht hinterlegt –")),
        (_("Kundenreferenz"), document.customer_reference),
        (_("Bestellart"), ORDER_TYPE_LABELS.get(document.order_type, document.order_type)),
        (_("Priorität"), PRIORITY_LABELS.get(document.priority, document.priority)),
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


def render_order_form(document):
    """Return the order form of ``document`` as PDF bytes."""
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    canvas.setTitle(f"Otoplastik-Bestellung {document.order_number}")
    canvas.setAuthor("otoorder")
    form = _FormWriter(canvas)
    form.heading(_("Otoplastik-Bestellung %(number)s") % {"number": document.order_number})
    form.table(header_rows(document))
    for item in document.items:
        form.heading(_("Ohr: %(side)s") % {"side": item.side_label}, size=13, space_before=6 * mm)
        form.table(item_rows(item))
    if document.notes:
        form.heading(_("Hinweise an das Labor"), size=13, space_before=6 * mm)
        form.paragraph(document.notes)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
