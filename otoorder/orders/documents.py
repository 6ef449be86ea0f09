"""Build the immutable ``OrderDocument`` a backend receives from an order."""

from django.db.models import OuterRef, Subquery

from branches.models import SupplierAccount
from suppliers.models import CustomerReferenceMode
from otoorder.backends.document import ItemDocument, OrderDocument, PartyDocument


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
        .objects.select_related("branch", "supplier__company", "customer", "prescriber")
        .prefetch_related("items__impression")
        .annotate(account_number=Subquery(account.values("account_number")[:1]))
        .get(pk=order.pk)
    )
    branch, supplier = order.branch, order.supplier
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
        items=tuple(
            ItemDocument(
                side=item.side,
                side_label=str(item.get_side_display()),
                product_family=item.product_family,
                product_family_label=str(item.get_product_family_display()),
                style=item.style,
                style_label=str(item.get_style_display()),
                material=item.material,
                material_label=str(item.get_material_display()),
                colour=item.colour,
                vent_type=item.vent_type,
                vent_type_label=str(item.get_vent_type_display()),
                vent_diameter_mm=str(item.vent_diameter_mm) if item.vent_diameter_mm is not None else "",
                tube=item.tube,
                tube_label=str(item.get_tube_display()) if item.tube else "",
                receiver_power=item.receiver_power,
                receiver_length=str(item.receiver_length) if item.receiver_length is not None else "",
                quantity=item.quantity,
                impression=str(item.impression) if item.impression else "",
                notes=item.notes,
            )
            for item in order.items.all()
        ),
    )
