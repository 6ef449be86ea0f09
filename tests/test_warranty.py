"""The free-remake window: fit days and material months from delivery, inclusive last day;
the changes that void a free remake; reasons as codes rendered in the reader's language."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from otoorder.orders import services, warranty
from otoorder.orders.models import EarmouldOrder, OrderItem
from suppliers.models import Supplier
from tests.factories import bte_item

BERLIN = ZoneInfo("Europe/Berlin")


def order(received=None, shipped=None, fit_days=90, material_months=12):
    supplier = Supplier(remake_fit_days=fit_days, remake_material_months=material_months)
    return EarmouldOrder(supplier=supplier, received_at=received, shipped_at=shipped)


def test_windows_run_from_the_goods_receipt():
    found = warranty.windows(order(received=datetime(2026, 3, 10, 9, tzinfo=BERLIN), shipped=datetime(2026, 3, 5, tzinfo=BERLIN)))
    assert found == warranty.Windows(date(2026, 3, 10), date(2026, 6, 8), date(2027, 3, 10))


def test_without_goods_receipt_the_shipping_day_counts():
    found = warranty.windows(order(shipped=datetime(2026, 3, 5, 15, tzinfo=BERLIN), fit_days=120, material_months=6))
    assert (found.delivered_on, found.fit_until, found.material_until) == (date(2026, 3, 5), date(2026, 7, 3), date(2026, 9, 5))


def test_delivery_is_the_local_day():
    # 23:30 UTC on 31 March is already 1 April in Berlin.
    found = warranty.windows(order(received=datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("UTC")), fit_days=0))
    assert found.delivered_on == date(2026, 4, 1) and found.fit_until == date(2026, 4, 1)


def test_material_months_end_on_the_last_day_of_a_short_month():
    assert warranty.windows(order(received=datetime(2026, 1, 31, 10, tzinfo=BERLIN), material_months=1)).material_until == date(2026, 2, 28)


def test_not_delivered_has_no_window():
    found = warranty.windows(order())
    assert found == warranty.Windows(None, None, None)
    assert not found.open(warranty.FIT, date(2026, 1, 1))
    assert warranty.window_reasons(order(), date(2030, 1, 1)) == []


@pytest.mark.parametrize(
    "today, fit_open, material_open",
    [
        (date(2026, 3, 10), True, True),  # the day of delivery
        (date(2026, 6, 8), True, True),  # last day of the fit window
        (date(2026, 6, 9), False, True),  # the day after
        (date(2027, 3, 10), False, True),  # last day of the material window
        (date(2027, 3, 11), False, False),
    ],
)
def test_window_inside_outside_and_on_its_last_day(today, fit_open, material_open):
    found = warranty.windows(order(received=datetime(2026, 3, 10, 9, tzinfo=BERLIN)))
    assert found.open(warranty.FIT, today) is fit_open
    assert found.open(warranty.MATERIAL, today) is material_open


def test_window_reasons_by_category():
    delivered = order(received=datetime(2026, 3, 10, 9, tzinfo=BERLIN))
    assert warranty.window_reasons(delivered, date(2026, 6, 8)) == []
    assert warranty.window_reasons(delivered, date(2026, 6, 9)) == [
        warranty.Reason("fit_window_closed", {"until": "2026-06-08", "material_until": "2027-03-10"})
    ]
    assert warranty.window_reasons(delivered, date(2026, 6, 9), warranty.FIT) == [
        warranty.Reason("window_closed", {"until": "2026-06-08"})
    ]
    assert warranty.window_reasons(delivered, date(2027, 3, 10), warranty.MATERIAL) == []
    assert warranty.window_reasons(delivered, date(2027, 3, 11), warranty.MATERIAL) == [
        warranty.Reason("window_closed", {"until": "2027-03-10"})
    ]
    assert warranty.window_reasons(delivered, date(2027, 3, 11)) == [warranty.Reason("window_closed", {"until": "2026-06-08"})]


ORIGINAL = OrderItem(side="right", style="shell", material="acrylic", colour="transparent", vent_type="parallel",
                     vent_diameter_mm="1.5")


def test_an_unchanged_remake_voids_nothing():
    same = bte_item(colour=" Transparent ", vent_diameter_mm="1.50")
    assert warranty.voiding_changes(ORIGINAL, same) == []


@pytest.mark.parametrize(
    "change, fields",
    [
        ({"style": "skeleton"}, ["style"]),
        ({"material": "silicone"}, ["material"]),
        ({"colour": "beige"}, ["colour"]),
        ({"vent_type": "groove"}, ["vent_type"]),
        ({"vent_diameter_mm": "2.0"}, ["vent_diameter_mm"]),
        ({"vent_type": "none", "vent_diameter_mm": None}, ["vent_type", "vent_diameter_mm"]),
        ({"style": "canal", "colour": "rot"}, ["style", "colour"]),
    ],
)
def test_each_voiding_change(change, fields):
    assert warranty.voiding_changes(ORIGINAL, bte_item(**change)) == fields


def test_a_stray_diameter_without_vent_is_no_change():
    before = OrderItem(side="left", style="canal", material="silicone", colour="beige", vent_type="none")
    assert warranty.voiding_changes(before, {**bte_item(), "style": "canal", "material": "silicone", "colour": "beige",
                                             "vent_type": "none", "vent_diameter_mm": "1.0"}) == []


def test_reasons_render_in_the_readers_language():
    reasons = [
        warranty.Reason("fit_window_closed", {"until": "2026-06-08", "material_until": "2027-03-10"}),
        warranty.Reason("changed", {"side": "right", "fields": ["style", "vent_type"]}),
        warranty.Reason("other_ear", {"side": "left"}),
    ]
    with translation.override("de"):
        assert warranty.warning_text(reasons) == (
            "Das Labor kann diese Nachfertigung berechnen: die kostenlose Nachfertigung wegen Passform war bis "
            "08.06.2026 möglich (Materialfehler: bis 10.03.2027); rechtes Ohr geändert: Bauform, Zusatzbohrung; "
            "linkes Ohr gehörte nicht zur ursprünglichen Bestellung."
        )
    with translation.override("en"):
        text = warranty.warning_text(reasons)
    assert text.startswith("The lab may charge for this remake:") and "right ear changed: Style, Vent;" in text


@pytest.mark.django_db
def test_charge_reasons_of_a_remake_right_ear_first(transaction_obj, dreve, dreve_supplier, alice):
    original = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier,
        items=[bte_item("right"), bte_item("left")], user=alice,
    )
    original.received_at = datetime(2026, 3, 10, 9, tzinfo=BERLIN)
    remake = [bte_item("left", material="silicone"), bte_item("right", colour="blau")]
    assert warranty.charge_reasons(original, remake, date(2026, 6, 8)) == [
        warranty.Reason("changed", {"side": "right", "fields": ["colour"]}),
        warranty.Reason("changed", {"side": "left", "fields": ["material"]}),
    ]
    assert warranty.charge_reasons(original, [bte_item("right")], date(2026, 6, 8)) == []
    assert [r.code for r in warranty.charge_reasons(original, [bte_item("right")], date(2026, 6, 9))] == ["fit_window_closed"]
