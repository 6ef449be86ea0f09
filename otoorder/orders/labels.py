"""The paper of impression logistics, drawn with reportlab like the order form: the box label
of one impression (62 mm label printer, or an A4 sheet) and the packing list of a parcel.

A label carries the side in the ear colour of the trade (red right, blue left) *and* as a word,
the order number as text and as a QR code (segno; a hand scanner types it into the search), the
lab, the branch, the impression's date, the box label's number and the customer's number —
never the customer's name (DOMAIN.md §8: only a pseudonymous code travels).

This module draws plain values (``BoxLabel``, ``PackingList``); ``parcels`` builds them from
the models.
"""

from dataclasses import dataclass
from datetime import date
from io import BytesIO

import segno
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from otoorder.vocabulary import Side

#: Label printers' continuous 62 mm tape, cut at 100 mm.
LABEL_62 = "62mm"
SHEET_A4 = "a4"
FORMATS = (LABEL_62, SHEET_A4)
LABEL_SIZE = (62 * mm, 100 * mm)
#: The ear colours of the trade, dark enough for white text (contrast above 4.5:1).
EAR_COLOURS = {Side.RIGHT: colors.HexColor("#B00020"), Side.LEFT: colors.HexColor("#0B4F9C")}
SIDE_LETTERS = {Side.RIGHT: "R", Side.LEFT: "L"}


def label_number(order_number, side):
    """The box label's number: the order number and the ear (``OT-2026-000042-R``)."""
    return f"{order_number}-{SIDE_LETTERS.get(side, '?')}"


def side_word(side):
    return _("RECHTS") if side == Side.RIGHT else _("LINKS")


def side_text(side):
    return _("rechtes Ohr") if side == Side.RIGHT else _("linkes Ohr")


@dataclass(frozen=True)
class BoxLabel:
    number: str
    order_number: str
    side: str
    lab: str
    branch: str
    impression_date: date | None
    customer_number: str


@dataclass(frozen=True)
class PackingLine:
    label_number: str
    order_number: str
    side: str
    customer_number: str
    received: bool = False


@dataclass(frozen=True)
class PackingList:
    lab: str
    branch_lines: tuple
    carrier: str
    tracking_number: str
    created_at: date
    lines: tuple


def _date(value):
    return value.strftime("%d.%m.%Y") if value else "–"


def draw_qr(canvas, text, x, y, size):
    """A QR code of ``text`` as filled squares, ``size`` wide, lower left corner at (x, y)."""
    qr = segno.make(text, error="m", micro=False)
    rows = list(qr.matrix)
    cell = size / len(rows)
    canvas.setFillColor(colors.black)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, stroke=0, fill=1)


def _draw_label(canvas, label, x, y, scale):
    """One label in a 62 × 100 mm frame (times ``scale``), lower left corner at (x, y)."""
    width, height = LABEL_SIZE[0] * scale, LABEL_SIZE[1] * scale
    pad = 3 * mm * scale
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(0.5 * scale)
    canvas.rect(x, y, width, height, stroke=1, fill=0)
    # The band: the ear colour with the side as a word (colour is never the only signal).
    band = 20 * mm * scale
    canvas.setFillColor(EAR_COLOURS.get(label.side, colors.black))
    canvas.rect(x, y + height - band, width, band, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont("Helvetica-Bold", 22 * scale)
    canvas.drawCentredString(x + width / 2, y + height - band + 8 * mm * scale, side_word(label.side))
    canvas.setFont("Helvetica", 8 * scale)
    canvas.drawCentredString(x + width / 2, y + height - band + 3 * mm * scale, side_text(label.side))
    canvas.setFillColor(colors.black)
    top = y + height - band - 6.5 * mm * scale
    canvas.setFont("Helvetica-Bold", 14 * scale)
    canvas.drawCentredString(x + width / 2, top, label.order_number)
    # The QR code with a quiet zone of white around it (scanners need one).
    qr_size = 34 * mm * scale
    qr_top = top - 4 * mm * scale
    draw_qr(canvas, label.order_number, x + (width - qr_size) / 2, qr_top - qr_size, qr_size)
    rows = [
        (_("Labor"), label.lab),
        (_("Filiale"), label.branch),
        (_("Abdruck vom"), _date(label.impression_date)),
        (_("Kundennr."), label.customer_number),
        (_("Etikett"), label.number),
    ]
    size, leading = 9 * scale, 11 * scale
    line_y = qr_top - qr_size - 6 * mm * scale
    label_width = 23 * mm * scale
    for name, value in rows:
        canvas.setFont("Helvetica-Bold", size)
        canvas.drawString(x + pad, line_y, name)
        canvas.setFont("Helvetica", size)
        for line in simpleSplit(str(value), "Helvetica", size, width - 2 * pad - label_width)[:2] or ["–"]:
            canvas.drawString(x + pad + label_width, line_y, line)
            line_y -= leading


def render_label(label, sheet=LABEL_62):
    """The box label as PDF bytes: one 62 × 100 mm page, or an A4 page with the label twice as
    large inside a cutting frame (for offices without a label printer)."""
    buffer = BytesIO()
    if sheet == SHEET_A4:
        canvas = Canvas(buffer, pagesize=A4)
        scale = 2
        x = (A4[0] - LABEL_SIZE[0] * scale) / 2
        y = A4[1] - 20 * mm - LABEL_SIZE[1] * scale
        canvas.setFont("Helvetica", 9)
        canvas.drawString(x, A4[1] - 14 * mm, _("Etikett der Abdruckbox – ausschneiden und aufkleben"))
        canvas.setDash(3, 3)
        canvas.rect(x - 3 * mm, y - 3 * mm, LABEL_SIZE[0] * scale + 6 * mm, LABEL_SIZE[1] * scale + 6 * mm)
        canvas.setDash()
    else:
        canvas = Canvas(buffer, pagesize=LABEL_SIZE)
        scale, x, y = 1, 0, 0
    canvas.setTitle(_("Etikett %(number)s") % {"number": label.number})
    _draw_label(canvas, label, x, y, scale)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class _Table:
    """The packing list's rows top-down on A4, a new page (with the header row) when full."""

    LEFT, TOP, BOTTOM = 18 * mm, A4[1] - 16 * mm, 16 * mm
    #: Column widths: number, label, order, side, customer number, received.
    WIDTHS = (10 * mm, 42 * mm, 38 * mm, 30 * mm, 28 * mm, 26 * mm)
    ROW = 8 * mm

    def __init__(self, canvas, headers):
        self.canvas, self.headers, self.y = canvas, headers, self.TOP

    def text(self, text, size=10, bold=False, space=5 * mm):
        self.canvas.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        self.canvas.setFillColor(colors.black)
        self.canvas.drawString(self.LEFT, self.y, text)
        self.y -= space

    def _cells(self, cells, bold=False, fills=None):
        canvas, x = self.canvas, self.LEFT
        for index, (cell, width) in enumerate(zip(cells, self.WIDTHS)):
            fill = (fills or {}).get(index)
            if fill is not None:
                canvas.setFillColor(fill)
                canvas.rect(x, self.y - 2.5 * mm, width, self.ROW, stroke=0, fill=1)
            canvas.setStrokeColor(colors.grey)
            canvas.setLineWidth(0.25)
            canvas.rect(x, self.y - 2.5 * mm, width, self.ROW, stroke=1, fill=0)
            canvas.setFillColor(colors.white if fill is not None else colors.black)
            canvas.setFont("Helvetica-Bold" if bold or fill is not None else "Helvetica", 9.5)
            canvas.drawString(x + 1.5 * mm, self.y, str(cell))
            x += width
        self.y -= self.ROW

    def header(self):
        self._cells(self.headers, bold=True)

    def row(self, cells, fills=None):
        if self.y - self.ROW < self.BOTTOM:
            self.canvas.showPage()
            self.y = self.TOP
            self.header()
        self._cells(cells, fills=fills)


def render_packing_list(packing):
    """The parcel's packing list (Packliste) as PDF bytes: who sends what to whom, one row per
    impression box, the side in its colour and as a word."""
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(_("Packliste %(number)s") % {"number": packing.tracking_number})
    table = _Table(
        canvas, ("#", _("Etikett"), _("Bestellnummer"), _("Seite"), _("Kundennr."), _("eingegangen"))
    )
    table.text(_("Packliste – Sammelversand von Abdrücken"), size=16, bold=True, space=9 * mm)
    table.text(_("An: %(lab)s") % {"lab": packing.lab}, bold=True)
    table.text(_("Von: %(branch)s") % {"branch": ", ".join(packing.branch_lines)})
    table.text(
        _("Versand: %(carrier)s, Sendungsnummer %(number)s")
        % {"carrier": packing.carrier, "number": packing.tracking_number}
    )
    table.text(
        _("Erstellt am %(date)s · %(count)s Abdrücke") % {"date": _date(packing.created_at), "count": len(packing.lines)},
        space=8 * mm,
    )
    table.header()
    for index, line in enumerate(packing.lines, start=1):
        table.row(
            (
                index,
                line.label_number,
                line.order_number,
                side_word(line.side),
                line.customer_number,
                _("ja") if line.received else "",
            ),
            fills={3: EAR_COLOURS.get(line.side)},
        )
    table.y -= 4 * mm
    table.text(_("Die Etiketten der Boxen tragen die Bestellnummer als Text und als QR-Code."), size=9)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
