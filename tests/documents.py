"""Order documents for backend tests: one complete binaural order, varied per test by overrides."""

from datetime import date, datetime, timezone

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from otoorder.backends.document import ItemDocument, OrderDocument, PartyDocument


def stored(name, data):
    """``data`` saved in Django's default storage (the test's private folder or object store),
    as the upload views store files; returns the stored name a document carries."""
    return default_storage.save(name, ContentFile(data))


RIGHT_BTE = ItemDocument(
    side="right",
    side_label="rechts",
    product_family="bte",
    product_family_label="HdO-Otoplastik mit Schlauch",
    style="shell",
    style_label="Schale",
    material="acrylic",
    material_label="Acryl hart",
    colour="transparent",
    vent_type="parallel",
    vent_type_label="parallel",
    vent_diameter_mm="1.5",
    tube="standard_2_1",
    tube_label="Standard 2,1 mm",
    quantity=1,
    impression="Abdruck 2026-11-20 rechts",
    notes="rechts enger",
    surface_finish="glossy",
    surface_finish_label="glänzend",
    acoustic_modification="libby_3",
    acoustic_modification_label="Libby-Horn 3 mm",
    canal_length="medium",
    canal_length_label="mittel",
    extraction_cord=False,
    engraving="EM R",
    impression_kind="physical",
    impression_kind_label="Abdruck (Silikon, per Post)",
    impression_reference="Box 17",
    impression_tracking_number="JJD000123",
)
LEFT_RIC = ItemDocument(
    side="left",
    side_label="links",
    product_family="ric",
    product_family_label="Ex-Hörer-Otoplastik (RIC)",
    style="canal",
    style_label="Stöpsel",
    material="silicone",
    material_label="Silikon weich",
    colour="beige",
    vent_type="none",
    vent_type_label="keine",
    receiver_power="M",
    receiver_length="2",
    quantity=2,
    impression="Scan 2026-11-20 links",
    shore_hardness="40",
    receiver_type="Phonak M-Hörer",
    canal_length="long",
    canal_length_label="lang",
    extraction_cord=True,
    impression_kind="scan",
    impression_kind_label="3D-Scan",
    scan_format="stl_binary",
    scan_sha256="0" * 64,
    scan_file_name="left.stl",
)


def order_document(**overrides):
    values = dict(
        order_id="6f1c2d8e-0000-4000-8000-000000000001",
        order_number="OT-2026-000042",
        order_type="new",
        priority="express",
        created_at=datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc),
        date_required=date(2026, 12, 5),
        branch=PartyDocument(
            name="Filiale Mitte",
            address_lines=("Filiale Mitte", "Hauptstraße 1", "10115 Berlin"),
            email="mitte@hoerakustik.test",
            phone="030 123456",
        ),
        supplier=PartyDocument(name="Labor", email="bestellung@labor.test"),
        supplier_order_method="interface",
        supplier_account="K-4711",
        customer_reference="EM-10001",
        prescriber="Alice Akustik",
        notes="",
        items=(RIGHT_BTE, LEFT_RIC),
    )
    values.update(overrides)
    return OrderDocument(**values)
