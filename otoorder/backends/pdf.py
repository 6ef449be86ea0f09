"""The PDF order form (Bestellformular) of the standard ordering process, drawn with reportlab."""

from io import BytesIO
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

PRIORITY_LABELS = {"standard": "Standard", "express": "Express"}
ORDER_TYPE_LABELS = {
    "new": "Neuanfertigung",
    "remake": "Reklamation/Nachfertigung",
    "modification": "Änderung",
    "reorder_from_scan": "Nachbestellung aus gespeichertem Scan",
    "repair": "Reparatur",
}


def _p(text, style):
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


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


def render_order_form(document):
    """Return the order form of ``document`` as PDF bytes."""
    buffer = BytesIO()
    styles = getSampleStyleSheet()
    normal, heading = styles["Normal"], styles["Heading1"]
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Otoplastik-Bestellung {document.order_number}",
        author="otoorder",
    )
    story = [_p(_("Otoplastik-Bestellung %(number)s") % {"number": document.order_number}, heading)]
    header = [
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
    story.append(_table([(label, value) for label, value in header if value], normal))
    for item in document.items:
        story += [Spacer(1, 6 * mm), _p(_("Ohr: %(side)s") % {"side": item.side_label}, styles["Heading2"])]
        story.append(_table(item_rows(item), normal))
    if document.notes:
        story += [Spacer(1, 6 * mm), _p(_("Hinweise an das Labor"), styles["Heading2"]), _p(document.notes, normal)]
    pdf.build(story)
    return buffer.getvalue()


def _table(rows, style):
    table = Table([[_p(label, style), _p(value, style)] for label, value in rows], colWidths=[55 * mm, 119 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table
