"""Tracking links: one public page per carrier, the number encoded, the carrier from the lab or the supplier."""

import pytest

from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders import services
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.tracking import normalise_carrier, tracking_url
from otoorder.vocabulary import Carrier
from tests.factories import bte_item
from tests.lifecycle_fixtures import TO_ORDERED, walk


@pytest.mark.parametrize(
    "carrier, number, url",
    [
        ("dhl", "00340434161094015902", "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434161094015902"),
        ("deutsche_post", "RR123456785DE", "https://www.deutschepost.de/de/s/sendungsverfolgung/verfolgen.html?piececode=RR123456785DE"),
        ("dpd", "01234567890123", "https://tracking.dpd.de/status/de_DE/parcel/01234567890123"),
        ("gls", "ZX12AB34", "https://gls-group.com/DE/de/paketverfolgung?match=ZX12AB34"),
        ("ups", "1Z999AA10123456784", "https://www.ups.com/track?loc=de_DE&tracknum=1Z999AA10123456784"),
        ("hermes", "H1001990000000000001", "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation/#H1001990000000000001"),
    ],
)
def test_every_carrier_has_its_page(carrier, number, url):
    assert tracking_url(carrier, number) == url


def test_every_carrier_of_the_vocabulary_has_a_template():
    assert all(tracking_url(carrier, "1") for carrier in Carrier.values)


def test_the_number_is_url_encoded_and_trimmed():
    assert tracking_url("dpd", " 12/34?x=1#y ") == "https://tracking.dpd.de/status/de_DE/parcel/12%2F34%3Fx%3D1%23y"
    assert tracking_url("dhl", "a&b c").endswith("piececode=a%26b%20c")
    assert tracking_url("ups", '"><script>').endswith("tracknum=%22%3E%3Cscript%3E")


@pytest.mark.parametrize("carrier, number", [("", "123"), (None, "123"), ("fedex", "123"), ("dhl", ""), ("dhl", "   "), ("dhl", None), ("dhl", "9" * 101)])
def test_no_link_without_a_known_carrier_or_a_number(carrier, number):
    assert tracking_url(carrier, number) == ""


@pytest.mark.parametrize(
    "word, carrier",
    [("DHL", "dhl"), ("dhl paket", "dhl"), ("Deutsche Post", "deutsche_post"), ("deutsche-post", "deutsche_post"),
     (" DPD ", "dpd"), ("GLS", "gls"), ("UPS", "ups"), ("Hermes", "hermes"), ("FedEx", ""), ("", ""), (None, ""), (42, "")],
)
def test_carriers_as_labs_write_them(word, carrier):
    assert normalise_carrier(word) == carrier


@pytest.fixture
def ordered(transaction_obj, dreve, dreve_supplier, alice):
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
    )
    return walk(order, *TO_ORDERED)


@pytest.mark.django_db
def test_the_labs_carrier_is_kept_and_makes_the_link(ordered):
    apply_status_update(ordered, StatusUpdate(status="shipped", tracking_number="00340434", data={"carrier": "DHL"}))
    ordered.refresh_from_db()
    assert ordered.carrier == "dhl"
    assert ordered.tracking_url.endswith("piececode=00340434")


@pytest.mark.django_db
def test_without_a_reported_carrier_the_suppliers_counts(ordered, dreve_supplier):
    apply_status_update(ordered, StatusUpdate(status="shipped", tracking_number="H-77", data={"carrier": "Brieftaube"}))
    ordered.refresh_from_db()
    assert ordered.carrier == "" and ordered.tracking_url == ""
    dreve_supplier.carrier = Carrier.HERMES
    dreve_supplier.save()
    ordered.refresh_from_db()
    assert ordered.tracking_url.endswith("#H-77")
    ordered.carrier = Carrier.GLS
    assert ordered.tracking_url.endswith("match=H-77")


@pytest.mark.django_db
def test_no_link_without_a_tracking_number(ordered, dreve_supplier):
    dreve_supplier.carrier = Carrier.DHL
    dreve_supplier.save()
    ordered.refresh_from_db()
    assert ordered.tracking_url == ""
