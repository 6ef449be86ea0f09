"""The plain, immutable order document a backend receives.

Built from the order by ``otoorder.orders.documents.build_document``; backends never see
the ORM. Everything a lab may need is here, and nothing more: the customer appears only as
the reference the supplier is configured to receive.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.files.storage import default_storage


@dataclass(frozen=True)
class PartyDocument:
    name: str
    address_lines: tuple = ()
    email: str = ""
    phone: str = ""
    fax: str = ""


class StoredFileTooLarge(Exception):
    """A stored file is larger than it may be (than recorded at upload, or the upload limit)."""


def read_stored(stored_name, limit):
    """The bytes of a stored file, through Django's default storage, at most ``limit`` of them.

    The storage is the private folder or the object store (``otoorder/storage.py``): a worker
    on any host reads what a web process stored. The size is asked first, so that nothing larger
    than ``limit`` is fetched; ``FileNotFoundError`` when the file is gone, ``StoredFileTooLarge``
    beyond ``limit``; the object store's own errors (unreachable, refused) pass unchanged.
    """
    if default_storage.size(stored_name) > limit:
        raise StoredFileTooLarge(stored_name)
    with default_storage.open(stored_name, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise StoredFileTooLarge(stored_name)
    return data


@dataclass(frozen=True)
class ScanDocument:
    """A stored scan of a digital impression, as backends that send files need it.

    The name it travels under, its name in the storage, the ear, its type, checksum and size;
    ``content`` is read from the storage when a backend's ``scan_files`` asks for it, at most
    ``size`` bytes (the size recorded at upload), else at most ``OTOORDER_SCAN_MAX_BYTES``.
    """

    filename: str
    stored_name: str
    side: str = ""
    content_type: str = "application/octet-stream"
    file_format: str = ""
    sha256: str = ""
    size: int = 0

    @property
    def content(self):
        return read_stored(self.stored_name, self.size or settings.OTOORDER_SCAN_MAX_BYTES)


@dataclass(frozen=True)
class AttachmentDocument:
    """A file staff attached to the order (PDF, PNG, JPEG), read from the storage when sent
    (at most ``size`` bytes, the size recorded at upload, else the attachment limit)."""

    name: str
    content_type: str
    stored_name: str
    sha256: str = ""
    size: int = 0

    @property
    def content(self):
        limit = self.size or getattr(settings, "OTOORDER_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
        return read_stored(self.stored_name, limit)


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
    shore_hardness: str = ""
    surface_finish: str = ""
    surface_finish_label: str = ""
    acoustic_modification: str = ""
    acoustic_modification_label: str = ""
    canal_length: str = ""
    canal_length_label: str = ""
    receiver_type: str = ""
    protection_filter: str = ""
    protection_filter_label: str = ""
    extraction_cord: bool = False
    engraving: str = ""
    #: The lab's own codes for this ear's values (``{field: code}`` from its catalogue).
    lab_codes: dict = field(default_factory=dict)
    #: The impression: "physical" (box label, tracking number) or "scan" (file, format, checksum).
    impression_kind: str = ""
    impression_kind_label: str = ""
    impression_reference: str = ""
    impression_tracking_number: str = ""
    scan_format: str = ""
    scan_sha256: str = ""
    scan_file_name: str = ""


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
    order_type_label: str = ""
    priority_label: str = ""
    original_order_number: str = ""
    reason: str = ""
    #: The stored scans of the items' digital impressions (``ScanDocument``), per ear.
    scans: tuple = field(default_factory=tuple)
    #: Files staff attached to the order (``AttachmentDocument``), in upload order.
    attachments: tuple = field(default_factory=tuple)

    @property
    def sides(self):
        return tuple(item.side for item in self.items)

    def as_dict(self):
        data = asdict(self)
        # Scans are files: the dict names them, the bytes travel only where a format carries them.
        data["scans"] = [
            {"filename": s.filename, "side": s.side, "file_format": s.file_format, "sha256": s.sha256, "size": s.size}
            for s in self.scans
        ]
        data["attachments"] = [
            {"name": a.name, "content_type": a.content_type, "sha256": a.sha256} for a in self.attachments
        ]
        data["created_at"] = self.created_at.isoformat()
        data["date_required"] = self.date_required.isoformat() if self.date_required else None
        return data


@dataclass(frozen=True)
class CancellationDocument:
    """A cancellation request (Stornierung) for an order the lab already has.

    ``idempotency_key`` is derived from the order (``<order uuid>-storno-<sequence>``): a
    repeated delivery of the same request carries the same key, and the lab drops the copy.
    ``sequence`` counts the order's cancellation requests (openTRANS: ORDERCHANGE_SEQUENCE_ID).
    """

    order: OrderDocument
    idempotency_key: str
    sequence: int
    reason: str
    requested_at: datetime
    #: The lab's own order number (empty when the lab never sent one).
    lab_reference: str = ""


@dataclass(frozen=True)
class MessageDocument:
    """Staff's answer to a lab's question (Rückfrage), sent back through the interface.

    ``message_id`` (a UUID) is the idempotency key; ``in_reply_to`` the lab's id of its
    question where the lab sent one.
    """

    order: OrderDocument
    message_id: str
    text: str
    author: str
    sent_at: datetime
    lab_reference: str = ""
    in_reply_to: str = ""
    #: The lab's question as it wrote it (quoted in e-mails and files).
    question: str = ""
