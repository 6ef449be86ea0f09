"""Build the immutable ``OrderDocument`` a backend receives from an order."""

import mimetypes
import os

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from branches.models import SupplierAccount
from otoorder.backends.document import AttachmentDocument, ItemDocument, OrderDocument, PartyDocument, ScanDocument
from otoorder.vocabulary import ImpressionKind
from suppliers.catalogue import CATALOGUE_FIELDS, lab_codes, offered
from suppliers.models import CustomerReferenceMode

#: Media types of the scan formats (labs' multipart parts name them).
SCAN_CONTENT_TYPES = {"stl_binary": "model/stl", "stl_ascii": "model/stl", "ply": "application/ply"}


def customer_reference(order):
    """What the lab learns of the customer: the least the supplier accepts (DOMAIN.md §5).

    ``numeric_code``: our customer number; ``initials_code`` (default): initials and number,
    which identify the patient for the branch without telling the lab the name;
    ``full_name``: the name, for labs that insist (e.g. as the MDR prescription's patient).
    """
    customer, mode = order.customer, order.supplier.customer_reference_mode
    if mode == CustomerReferenceMode.NUMERIC_CODE:
        return str(customer.customer_number)
    if mode == CustomerReferenceMode.FULL_NAME:
        return f"{customer.last_name}, {customer.first_name} ({customer.customer_number})"
    return f"{customer.initials}-{customer.customer_number}"


def build_document(order):
    account = SupplierAccount.objects.filter(branch_id=OuterRef("branch_id"), supplier_id=OuterRef("supplier_id"))
    order = (
        type(order)
        .objects.select_related("branch", "supplier__company", "customer", "prescriber", "original_order")
        .prefetch_related("items__impression", "attachments")
        .annotate(account_number=Subquery(account.values("account_number")[:1]))
        .get(pk=order.pk)
    )
    branch, supplier = order.branch, order.supplier
    order_items = list(order.items.all())
    # One catalogue query per order, whatever the number of ears; the codes valid when the
    # order was placed, so a resend after a catalogue change sends what staff chose.
    catalogue = offered(supplier, timezone.localdate(order.created_at))
    items = tuple(item_document(item, lab_codes(supplier, _values(item), catalogue=catalogue)) for item in order_items)
    prescriber = order.prescriber.get_full_name() or order.prescriber.get_username() if order.prescriber else ""
    return OrderDocument(
        order_id=str(order.pk),
        order_number=order.number,
        order_type=order.order_type,
        priority=order.priority,
        created_at=order.created_at,
        date_required=order.date_required,
        branch=PartyDocument(
            name=branch.name,
            address_lines=tuple(branch.address_lines),
            email=branch.email,
            phone=branch.phone,
        ),
        supplier=PartyDocument(
            name=supplier.display_name,
            email=supplier.order_email,
            phone=supplier.phone_number,
            fax=supplier.fax_number,
        ),
        supplier_order_method=supplier.order_method,
        supplier_account=order.account_number or "",
        customer_reference=customer_reference(order),
        prescriber=prescriber,
        notes=order.notes,
        items=items,
        order_type_label=str(order.get_order_type_display()),
        priority_label=str(order.get_priority_display()),
        original_order_number=order.original_order.number if order.original_order else "",
        reason=order.reason,
        scans=tuple(scan for scan in (scan_document(item) for item in order_items) if scan is not None),
        attachments=tuple(
            AttachmentDocument(
                name=a.original_name, content_type=a.content_type, stored_name=a.file.name, sha256=a.sha256, size=a.file_size
            )
            for a in order.attachments.all()
        ),
    )


def _values(item):
    return {name: getattr(item, name) for name in CATALOGUE_FIELDS}


def _label(item, name):
    return str(getattr(item, f"get_{name}_display")()) if getattr(item, name) else ""


def item_document(item, codes):
    impression = item.impression
    is_scan = impression is not None and impression.kind == ImpressionKind.SCAN
    return ItemDocument(
        side=item.side,
        side_label=_label(item, "side"),
        product_family=item.product_family,
        product_family_label=_label(item, "product_family"),
        style=item.style,
        style_label=_label(item, "style"),
        material=item.material,
        material_label=_label(item, "material"),
        colour=item.colour,
        vent_type=item.vent_type,
        vent_type_label=_label(item, "vent_type"),
        vent_diameter_mm=str(item.vent_diameter_mm) if item.vent_diameter_mm is not None else "",
        tube=item.tube,
        tube_label=_label(item, "tube"),
        receiver_power=item.receiver_power,
        receiver_length=str(item.receiver_length) if item.receiver_length is not None else "",
        quantity=item.quantity,
        impression=str(impression) if impression else "",
        notes=item.notes,
        shore_hardness=str(item.shore_hardness) if item.shore_hardness is not None else "",
        surface_finish=item.surface_finish,
        surface_finish_label=_label(item, "surface_finish"),
        acoustic_modification=item.acoustic_modification,
        acoustic_modification_label=_label(item, "acoustic_modification"),
        canal_length=item.canal_length,
        canal_length_label=_label(item, "canal_length"),
        receiver_type=item.receiver_type,
        protection_filter=item.protection_filter,
        protection_filter_label=_label(item, "protection_filter"),
        extraction_cord=item.extraction_cord,
        engraving=item.engraving,
        lab_codes=codes,
        impression_kind=impression.kind if impression else "",
        impression_kind_label=str(impression.get_kind_display()) if impression else "",
        impression_reference=impression.reference if impression else "",
        impression_tracking_number=impression.tracking_number if impression else "",
        scan_format=impression.file_format if is_scan else "",
        scan_sha256=impression.sha256 if is_scan else "",
        scan_file_name=scan_file_name(item) if is_scan and impression.file else "",
    )


def scan_file_name(item):
    """The name a scan travels under: order-neutral, side and format, never the customer's name."""
    impression = item.impression
    extension = os.path.splitext(impression.original_name or impression.file.name)[1].lower() or ".stl"
    return f"{item.side}{extension}"


def scan_document(item):
    impression = item.impression
    if impression is None or impression.kind != ImpressionKind.SCAN or not impression.file:
        return None
    name = scan_file_name(item)
    return ScanDocument(
        filename=name,
        stored_name=impression.file.name,
        side=item.side,
        content_type=SCAN_CONTENT_TYPES.get(impression.file_format)
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream",
        file_format=impression.file_format,
        sha256=impression.sha256,
        size=impression.file_size or 0,
    )
