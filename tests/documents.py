"""Order documents for backend tests: one complete binaural order, varied per test by overrides."""

from datetime import date, datetime, timezone

from otoorder.backends.document import ItemDocument, OrderDocument, PartyDocument

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
