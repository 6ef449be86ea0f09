"""The plain, immutable order document a backend receives.

Built from the order by ``otoorder.orders.documents.build_document``; backends never see
the ORM. Everything a lab may need is here, and nothing more: the customer appears only as
the reference the supplier is configured to receive.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class PartyDocument:
    name: str
    address_lines: tuple = ()
    email: str = ""
    phone: str = ""
    fax: str = ""


@dataclass(frozen=True)
class ItemDocument:
    side: str  # "left" | "right"
    side_label: str
    product_family: str = ""
    product_family_label: str = ""
    style: str = ""
    style_label: str = ""
    material: str = ""
    material_label: str = ""
    colour: str = ""
    vent_type: str = ""
    vent_type_label: str = ""
    vent_diameter_mm: str = ""
    tube: str = ""
    tube_label: str = ""
    receiver_power: str = ""
    receiver_length: str = ""
    quantity: int = 1
    impression: str = ""
    notes: str = ""


@dataclass(frozen=True)
class OrderDocument:
    #: The order's UUID: the idempotency key every transport sends.
    order_id: str
    order_number: str
    order_type: str
    priority: str
    created_at: datetime
    date_required: date | None
    branch: PartyDocument
    supplier: PartyDocument
    supplier_order_method: str
    supplier_account: str
    customer_reference: str
    prescriber: str
    items: tuple = field(default_factory=tuple)
    notes: str = ""

    @property
    def sides(self):
        return tuple(item.side for item in self.items)

    def as_dict(self):
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["date_required"] = self.date_required.isoformat() if self.date_required else None
        return data
