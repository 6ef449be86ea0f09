"""The full earmould specification (issue [3], DOMAIN.md §5): every validation rule through the
order service, the API and the Bestellservice form (there the quantity and a value outside the
choices are bounded by the fields themselves), each refusal creating nothing; the lab's
catalogue; the header of remakes; the default date required; the order document, the lab
codes arriving at an HTTP lab and the PDF order form."""

import hashlib
import json
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from lxml import etree
from pypdf import PdfReader
from rest_framework.test import APIClient

from otoorder.backends import opentrans
from otoorder.backends.audia_easy_order import order_xml
from otoorder.backends.pdf import render_order_form
from otoorder.orders import dispatch, lifecycle, services
from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.vocabulary import ImpressionKind
from otoorder.orders.documents import build_document
from otoorder.orders.models import Dispatch, EarmouldOrder, Impression, OrderEvent, OrderItem
from otoorder.orders.validation import ItemsInvalid, check_item
from otoorder.transactions.models import Transaction
from suppliers.models import CatalogueEntry, CatalogueRule
from tests import factories as f
from tests.factories import bte_item, ric_item
from tests.labs.http_lab import Reply
from tests.schemas import opentrans_xsd

pytestmark = pytest.mark.django_db

# --- helpers ------------------------------------------------------------------------------------


def counts():
    return (
        EarmouldOrder.objects.count(),
        OrderItem.objects.count(),
        Dispatch.objects.count(),
        OrderEvent.objects.count(),
    )


def place(txn, company, supplier, user, items, **header):
    return services.place_order(
        transaction_obj=txn, company=company, supplier=supplier, items=items, user=user, header=header
    )


def sent(order):
    """Walk an order to 'ordered', as the worker does."""
    lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER)
    lifecycle.set_status(order, OrderStatus.ORDERED, source=EventSource.WORKER)
    return order


def protection_item(side="right", **overrides):
    return {
        "side": side,
        "product_family": "hearing_protection",
        "style": "canal",
        "material": "silicone",
        "shore_hardness": 40,
        "protection_filter": "music_15",
        "extraction_cord": True,
        **overrides,
    }


def full_item(side="right", **overrides):
    """A BTE ear with every optional field of the full specification set."""
    return bte_item(
        side,
        material="silicone",
        shore_hardness=60,
        surface_finish="matte",
        acoustic_modification="libby_3",
        canal_length="long",
        extraction_cord=True,
        engraving="EM rechts",
        quantity=2,
        **overrides,
    )


def impression(customer, side, kind=ImpressionKind.PHYSICAL, **fields):
    return Impression.objects.create(customer=customer, side=side, kind=kind, **fields)


#: (item, field, words of the message) — each rule of DOMAIN.md §5 and of the full specification.
INVALID_ITEMS = [
    pytest.param(bte_item(side=""), "side", "Seite", id="side-missing"),
    pytest.param(bte_item(side="both"), "side", "keine gültige Auswahl", id="side-both"),
    pytest.param(ric_item(receiver_power=""), "receiver_power", "Hörerleistung", id="ric-power"),
    pytest.param(ric_item(receiver_length=None), "receiver_length", "Hörerlänge", id="ric-length"),
    pytest.param(ric_item(receiver_length=5), "receiver_length", "0, 1, 2 oder 3", id="ric-length-range"),
    pytest.param(bte_item(tube=""), "tube", "Schlauch", id="bte-tube"),
    pytest.param(bte_item(product_family="thin_tube", tube=""), "tube", "Schlauch", id="thin-tube-tube"),
    pytest.param(bte_item(style="cic", vent_diameter_mm="2.5"), "vent_diameter_mm", "höchstens 1,0 mm", id="vent-style"),
    pytest.param(
        bte_item(style="shell", material="titanium", vent_diameter_mm="2.0"),
        "vent_diameter_mm",
        "Material Titan erlaubt höchstens 1,5 mm",
        id="vent-material",
    ),
    pytest.param(bte_item(vent_diameter_mm=None), "vent_diameter_mm", "Durchmesser", id="vent-without-diameter"),
    pytest.param(bte_item(protection_filter="music_15"), "protection_filter", "nur bei Gehörschutz", id="filter-not-protection"),
    pytest.param(bte_item(shore_hardness=40), "shore_hardness", "weichen Materialien", id="shore-hard-material"),
    pytest.param(protection_item(shore_hardness=95), "shore_hardness", "zwischen 20 und 90", id="shore-range"),
    pytest.param(bte_item(engraving="x" * 31), "engraving", "höchstens 30 Zeichen", id="engraving"),
    pytest.param(bte_item(quantity=11), "quantity", "zwischen 1 und 10", id="quantity-high"),
    pytest.param(bte_item(quantity=0), "quantity", "zwischen 1 und 10", id="quantity-zero"),
    pytest.param(bte_item(surface_finish="chrome"), "surface_finish", "keine gültige Auswahl", id="finish-choice"),
]


# --- the rules in check_item ---------------------------------------------------------------------


def test_complete_items_pass():
    for item in (bte_item(), ric_item(receiver_type="Phonak M"), protection_item(), full_item()):
        assert check_item(item) == {}, item


def test_receiver_type_is_optional_for_ric():
    assert check_item(ric_item(receiver_type="")) == {}


def test_impression_of_the_other_ear_is_refused(customer):
    left = impression(customer, "left")
    errors = check_item(bte_item("right", impression=left))
    assert "linken Ohr" in errors["impression"] and "des rechten Ohrs" in errors["impression"]


# --- through the order service -----------------------------------------------------------------


@pytest.mark.parametrize(("item", "field", "words"), INVALID_ITEMS)
def test_service_refuses_and_creates_nothing(transaction_obj, dreve, dreve_supplier, alice, item, field, words):
    with pytest.raises(ItemsInvalid) as caught:
        place(transaction_obj, dreve, dreve_supplier, alice, [item])
    assert words in caught.value.item_errors[0][field]
    assert counts() == (0, 0, 0, 0)


def test_service_stores_every_field(transaction_obj, dreve, dreve_supplier, alice, customer):
    box = impression(customer, "right", reference="Box 17", tracking_number="JJD1")
    order = place(
        transaction_obj,
        dreve,
        dreve_supplier,
        alice,
        [full_item(impression=box.pk), protection_item("left", receiver_type="")],
    )
    right, left = order.items.order_by("-side")
    assert (right.shore_hardness, right.surface_finish, right.acoustic_modification) == (60, "matte", "libby_3")
    assert (right.canal_length, right.extraction_cord, right.engraving, right.quantity) == ("long", True, "EM rechts", 2)
    assert right.impression == box
    assert (left.protection_filter, left.shore_hardness) == ("music_15", 40)


def test_service_refuses_impression_of_other_ear_and_other_customer(transaction_obj, dreve, dreve_supplier, alice, mitte):
    other_customer = f.CustomerFactory(branch=mitte)
    wrong_ear = impression(transaction_obj.customer, "left")
    foreign = impression(other_customer, "right")
    with pytest.raises(ItemsInvalid) as caught:
        place(transaction_obj, dreve, dreve_supplier, alice, [bte_item("right", impression=wrong_ear.pk)])
    assert "linken Ohr" in caught.value.item_errors[0]["impression"]
    with pytest.raises(ItemsInvalid) as caught:
        place(transaction_obj, dreve, dreve_supplier, alice, [bte_item("right", impression=foreign.pk)])
    assert "anderen Kunden" in caught.value.item_errors[0]["impression"]
    assert counts() == (0, 0, 0, 0)


def test_service_refuses_what_the_lab_does_not_offer(transaction_obj, dreve, dreve_supplier, alice):
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="style", value="shell", code="D-SCH")
    CatalogueRule.objects.create(supplier=dreve_supplier, material="acrylic", max_vent_mm="1.0")
    with pytest.raises(ItemsInvalid) as caught:
        place(transaction_obj, dreve, dreve_supplier, alice, [bte_item("right", style="half_shell"), bte_item("left")])
    right, left = caught.value.item_errors
    assert "half_shell" in right["style"] and "nicht an" in right["style"]
    assert "höchstens 1,0 mm" in left["vent_diameter_mm"]
    assert counts() == (0, 0, 0, 0)
    assert place(transaction_obj, dreve, dreve_supplier, alice, [bte_item(vent_diameter_mm="1.0")]).items.count() == 1


class TestHeader:
    def test_remake_needs_original_and_reason(self, transaction_obj, dreve, dreve_supplier, alice):
        with pytest.raises(ValidationError) as caught:
            place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()], order_type="remake")
        assert set(caught.value.message_dict) == {"original_order", "reason"}
        assert counts() == (0, 0, 0, 0)

    def test_modification_with_original_and_reason(self, transaction_obj, dreve, dreve_supplier, alice):
        original = sent(place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()]))
        remake = place(
            transaction_obj, dreve, dreve_supplier, alice, [bte_item()],
            order_type="modification", original_order=original.pk, reason="drückt am Tragus",
        )
        assert (remake.original_order, remake.reason) == (original, "drückt am Tragus")
        assert list(original.follow_ups.all()) == [remake]

    def test_original_must_be_of_the_same_customer_and_sent(self, transaction_obj, dreve, dreve_supplier, alice, mitte, template):
        queued = place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()])
        other_txn = f.TransactionFactory(customer=f.CustomerFactory(branch=mitte), template=template, started_by=alice)
        foreign = sent(place(other_txn, dreve, dreve_supplier, alice, [bte_item()]))
        before = counts()
        for original, words in ((queued, "noch nicht an das Labor"), (foreign, "anderen Kunden")):
            with pytest.raises(ValidationError) as caught:
                place(
                    transaction_obj, dreve, dreve_supplier, alice, [bte_item()],
                    order_type="remake", original_order=original, reason="zu locker",
                )
            assert words in caught.value.message_dict["original_order"][0]
        assert counts() == before

    def test_new_order_carries_no_original(self, transaction_obj, dreve, dreve_supplier, alice):
        original = sent(place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()]))
        with pytest.raises(ValidationError) as caught:
            place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()], order_type="new", original_order=original)
        assert "Bestellart" in caught.value.message_dict["original_order"][0]

    def test_date_required_not_in_the_past(self, transaction_obj, dreve, dreve_supplier, alice):
        with pytest.raises(ValidationError) as caught:
            place(
                transaction_obj, dreve, dreve_supplier, alice, [bte_item()],
                date_required=timezone.localdate() - timedelta(days=1),
            )
        assert "Vergangenheit" in caught.value.message_dict["date_required"][0]
        assert counts() == (0, 0, 0, 0)

    def test_date_required_defaults_to_delivery_days_in_working_days(self, transaction_obj, dreve, dreve_supplier, alice):
        dreve_supplier.delivery_days = 5
        dreve_supplier.save()
        order = place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()])
        assert order.date_required == services.add_working_days(timezone.localdate(), 5)
        # Five working days are always a week: the weekend is skipped.
        assert order.date_required - timezone.localdate() == timedelta(days=7)

    def test_unknown_priority_is_refused(self, transaction_obj, dreve, dreve_supplier, alice):
        with pytest.raises(ValidationError) as caught:
            place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()], priority="overnight")
        assert "Priorität" in caught.value.message_dict["priority"][0]
        assert counts() == (0, 0, 0, 0)

    def test_working_days_skip_the_weekend(self):
        friday = date(2026, 11, 27)
        assert services.add_working_days(friday, 1) == date(2026, 11, 30)
        assert services.add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)  # Saturday
        assert services.add_working_days(friday, 0) == friday


# --- through the API -------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def api_item(item):
    return {key: (str(value) if key == "impression" and value else value) for key, value in item.items() if value is not None}


def api_post(client, txn, company, supplier, items, **header):
    body = {"transaction": str(txn.pk), "company": str(company.pk), "items": [api_item(i) for i in items], **header}
    if supplier is not None:
        body["supplier"] = str(supplier.pk)
    return client.post("/api/v1/orders/", body, format="json")


@pytest.mark.parametrize(("item", "field", "words"), INVALID_ITEMS)
def test_api_refuses_per_field_and_creates_nothing(transaction_obj, dreve, dreve_supplier, alice, item, field, words):
    response = api_post(api(alice), transaction_obj, dreve, dreve_supplier, [item])
    assert response.status_code == 400, response.json()
    message = response.json()["errors"]["items"][0][field][0]
    # A value outside the choices is refused by the field's type, in DRF's words.
    assert words in message or "keine gültige" in message
    assert counts() == (0, 0, 0, 0)


def test_api_accepts_and_returns_the_full_specification(transaction_obj, dreve, dreve_supplier, alice, customer):
    original = sent(place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()]))
    box = impression(customer, "right")
    required = timezone.localdate() + timedelta(days=20)
    response = api_post(
        api(alice), transaction_obj, dreve, dreve_supplier,
        [full_item(impression=box.pk), protection_item("left")],
        order_type="remake", original_order=str(original.pk), reason="Pfeifen", priority="express",
        date_required=required.isoformat(), prescriber=alice.pk,
    )
    assert response.status_code == 201, response.json()
    body = api(alice).get(f"/api/v1/orders/{response.json()['id']}/").json()
    assert (body["order_type"], body["original_order"], body["original_order_number"]) == ("remake", str(original.pk), original.number)
    assert (body["reason"], body["priority"], body["date_required"], body["prescriber"]) == ("Pfeifen", "express", required.isoformat(), alice.pk)
    right = next(item for item in body["items"] if item["side"] == "right")
    assert {k: right[k] for k in ("shore_hardness", "surface_finish", "acoustic_modification", "canal_length", "extraction_cord", "engraving", "quantity")} == {
        "shore_hardness": 60, "surface_finish": "matte", "acoustic_modification": "libby_3",
        "canal_length": "long", "extraction_cord": True, "engraving": "EM rechts", "quantity": 2,
    }
    assert right["impression"] == str(box.pk)
    left = next(item for item in body["items"] if item["side"] == "left")
    assert left["protection_filter"] == "music_15"


def test_api_remake_without_original_and_reason(transaction_obj, dreve, dreve_supplier, alice):
    response = api_post(api(alice), transaction_obj, dreve, dreve_supplier, [bte_item()], order_type="remake")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "ursprüngliche Bestellung" in errors["original_order"][0] and "Grund" in errors["reason"][0]
    assert counts() == (0, 0, 0, 0)


def test_api_impression_of_other_ear_or_customer(transaction_obj, dreve, dreve_supplier, alice, mitte):
    wrong_ear = impression(transaction_obj.customer, "left")
    foreign = impression(f.CustomerFactory(branch=mitte), "left")
    response = api_post(
        api(alice), transaction_obj, dreve, dreve_supplier, [bte_item("right", impression=wrong_ear.pk)]
    )
    assert response.status_code == 400
    assert "linken Ohr" in response.json()["errors"]["items"][0]["impression"][0]
    response = api_post(
        api(alice), transaction_obj, dreve, dreve_supplier, [bte_item("right"), ric_item("left", impression=foreign.pk)]
    )
    assert response.status_code == 400
    right, left = response.json()["errors"]["items"]
    assert right == {} and "anderen Kunden" in left["impression"][0]
    assert counts() == (0, 0, 0, 0)


def test_api_catalogue_refusal_per_ear(transaction_obj, dreve, dreve_supplier, alice):
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="material", value="acrylic", code="D-ACR")
    response = api_post(
        api(alice), transaction_obj, dreve, dreve_supplier, [bte_item("right"), ric_item("left")]
    )
    assert response.status_code == 400
    right, left = response.json()["errors"]["items"]
    assert right == {} and "silicone" in left["material"][0]
    assert counts() == (0, 0, 0, 0)


def test_api_prescriber_of_another_branch_is_refused(transaction_obj, dreve, dreve_supplier, alice, bob):
    response = api_post(api(alice), transaction_obj, dreve, dreve_supplier, [bte_item()], prescriber=bob.pk)
    assert response.status_code == 400 and "prescriber" in response.json()["errors"]
    assert counts() == (0, 0, 0, 0)


def test_api_schema_has_every_choice_as_enum(alice):
    schema = api(alice).get("/api/schema/", {"format": "json"})
    components = json.loads(schema.content)["components"]["schemas"]
    for name in ("SurfaceFinishEnum", "AcousticModificationEnum", "CanalLengthEnum", "ProtectionFilterEnum", "OrderTypeEnum"):
        assert components[name]["enum"], name


# --- through the Bestellservice form ---------------------------------------------------------------


@pytest.fixture
def dreve_txn(customer, dreve, dreve_supplier, alice):
    template = f.TemplateFactory(name="Otoplastik Dreve", steps__company=dreve, steps__supplier=dreve_supplier)
    return Transaction.objects.start(customer=customer, template=template, user=alice)


def form_post(client, txn, company, supplier, ears, **header):
    data = {
        "company": str(company.pk),
        "supplier": str(supplier.pk),
        "order_type": "new",
        "priority": "standard",
        "date_required": "",
        "notes": "",
        **header,
    }
    for item in ears:
        item = dict(item)
        side = item.pop("side")
        data.update({f"{side}-vent_type": "none", f"{side}-quantity": "1", f"{side}-order": "on"})
        data.update({f"{side}-{name}": "" if value is None else str(value) for name, value in item.items()})
    return client.post(reverse("transactions:order_service", kwargs={"pk": txn.pk}), data)


#: The rules through the form's fields (quantity is bounded by the field itself, 1–10).
FORM_RULES = [
    pytest.param(bte_item(protection_filter="music_15"), "protection_filter", "nur bei Gehörschutz", id="filter-not-protection"),
    pytest.param(bte_item(shore_hardness=40), "shore_hardness", "weichen Materialien", id="shore-hard-material"),
    pytest.param(protection_item(shore_hardness=95), "shore_hardness", "zwischen 20 und 90", id="shore-range"),
    pytest.param(bte_item(engraving="x" * 31), "engraving", "30", id="engraving"),
    pytest.param(ric_item(receiver_power=""), "receiver_power", "Hörerleistung", id="ric-power"),
    pytest.param(ric_item(receiver_length=""), "receiver_length", "Hörerlänge", id="ric-length"),
    pytest.param(bte_item(tube=""), "tube", "Schlauch", id="bte-tube"),
    pytest.param(bte_item(style="cic", vent_diameter_mm="2,5"), "vent_diameter_mm", "höchstens 1,0 mm", id="vent-style"),
    pytest.param(
        bte_item(material="titanium", vent_diameter_mm="2,0"), "vent_diameter_mm", "höchstens 1,5 mm", id="vent-material"
    ),
]


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.mark.parametrize(("item", "field", "words"), FORM_RULES)
def test_form_refuses_at_the_field_and_creates_nothing(client_alice, dreve_txn, dreve, dreve_supplier, item, field, words):
    response = form_post(client_alice, dreve_txn, dreve, dreve_supplier, [item])
    assert response.status_code == 200
    ear = next(form for form in response.context["forms"].ears if form.side == item["side"])
    assert words in ear.errors[field][0]
    assert counts() == (0, 0, 0, 0)


def test_form_catalogue_refusal_creates_nothing(client_alice, dreve_txn, dreve, dreve_supplier):
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="style", value="canal", code="D-STO")
    response = form_post(client_alice, dreve_txn, dreve, dreve_supplier, [bte_item("right", style="shell")])
    assert response.status_code == 200
    assert "bietet „shell“ nicht an" in response.text
    assert counts() == (0, 0, 0, 0)


def test_form_remake_without_original_creates_nothing(client_alice, dreve_txn, dreve, dreve_supplier):
    response = form_post(client_alice, dreve_txn, dreve, dreve_supplier, [bte_item("right")], order_type="remake")
    assert response.status_code == 200
    assert "braucht die ursprüngliche Bestellung" in response.text
    assert counts() == (0, 0, 0, 0)


def test_form_remake_links_the_original(client_alice, dreve_txn, dreve, dreve_supplier, alice):
    original = sent(place(dreve_txn, dreve, dreve_supplier, alice, [bte_item()]))
    response = form_post(
        client_alice, dreve_txn, dreve, dreve_supplier, [bte_item("right")],
        order_type="remake", original_order=str(original.pk), reason="drückt",
    )
    assert response.status_code == 302
    remake = EarmouldOrder.objects.exclude(pk=original.pk).get()
    assert (remake.original_order, remake.reason, remake.order_type) == (original, "drückt", "remake")


def test_form_remake_of_an_unsent_order_creates_nothing(client_alice, dreve_txn, dreve, dreve_supplier, alice):
    queued = place(dreve_txn, dreve, dreve_supplier, alice, [bte_item()])
    before = counts()
    response = form_post(
        client_alice, dreve_txn, dreve, dreve_supplier, [bte_item("right")],
        order_type="remake", original_order=str(queued.pk), reason="drückt",
    )
    assert response.status_code == 200
    assert "noch nicht an das Labor" in response.text
    assert counts() == before


def test_form_offers_each_ear_only_its_own_impressions(client_alice, dreve_txn, dreve, dreve_supplier, customer):
    left = impression(customer, "left", reference="Box links")
    right = impression(customer, "right", reference="Box rechts")
    response = form_post(client_alice, dreve_txn, dreve, dreve_supplier, [bte_item("right", impression=left.pk)])
    assert response.status_code == 200
    assert response.context["forms"].ears[0].errors["impression"]
    assert counts() == (0, 0, 0, 0)
    response = form_post(client_alice, dreve_txn, dreve, dreve_supplier, [bte_item("right", impression=right.pk)])
    assert response.status_code == 302
    assert EarmouldOrder.objects.get().items.get().impression == right


def test_form_order_gets_the_default_date_required(client_alice, dreve_txn, dreve, dreve_supplier):
    response = form_post(client_alice, dreve_txn, dreve, dreve_supplier, [bte_item("right")])
    assert response.status_code == 302
    order = EarmouldOrder.objects.get()
    assert order.date_required == services.default_date_required(dreve_supplier)


# --- the document, the lab codes on the wire, the PDF ---------------------------------------------


@pytest.fixture
def scan(customer, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    content = b"solid left\nendsolid left\n"
    scan = impression(
        customer, "left", ImpressionKind.SCAN, original_name="Erika links.STL", file_format="stl_ascii",
        file_size=len(content), sha256=hashlib.sha256(content).hexdigest(), scanner="3Shape",
    )
    scan.file.save("left.stl", ContentFile(content))
    return scan


@pytest.fixture
def catalogue(dreve_supplier):
    for field, value, code in (
        ("style", "shell", "D-SCH"),
        ("style", "canal", "D-STO"),
        ("material", "silicone", "D-SIL50"),
        ("material", "acrylic", "D-ACR"),
    ):
        CatalogueEntry.objects.create(supplier=dreve_supplier, field=field, value=value, code=code)
    return dreve_supplier


@pytest.fixture
def remake(transaction_obj, dreve, dreve_supplier, alice, customer, scan, catalogue):
    original = sent(place(transaction_obj, dreve, dreve_supplier, alice, [bte_item()]))
    box = impression(customer, "right", reference="Box 17", tracking_number="JJD000123")
    return place(
        transaction_obj, dreve, dreve_supplier, alice,
        [full_item(impression=box.pk), ric_item("left", receiver_type="Phonak M", shore_hardness=50, impression=scan.pk)],
        order_type="remake", original_order=original.pk, reason="Pfeift beim Kauen",
    )


def test_document_carries_the_full_spec_codes_and_scans(remake, scan, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        document = build_document(remake)
    right, left = sorted(document.items, key=lambda item: item.side != "right")
    assert right.lab_codes == {"style": "D-SCH", "material": "D-SIL50"} and left.lab_codes == {"style": "D-STO", "material": "D-SIL50"}
    assert (right.surface_finish_label, right.acoustic_modification_label, right.canal_length_label) == ("matt", "Libby-Horn 3 mm", "lang")
    assert (right.impression_kind, right.impression_reference, right.impression_tracking_number) == ("physical", "Box 17", "JJD000123")
    assert (left.scan_format, left.scan_sha256, left.scan_file_name) == ("stl_ascii", scan.sha256, "left.stl")
    assert "Erika" not in left.scan_file_name
    assert document.original_order_number == remake.original_order.number and document.reason == "Pfeift beim Kauen"
    [stored] = document.scans
    assert (stored.filename, stored.side, stored.content_type) == ("left.stl", "left", "model/stl")
    assert stored.content == b"solid left\nendsolid left\n"


def test_lab_codes_and_scans_arrive_at_an_http_lab(remake, chain, dreve, dreve_supplier, http_lab):
    definition = f.InterfaceDefinitionFactory(
        chain=chain, backend="hoerluchs_partner", supplier=dreve_supplier, companies=[dreve],
        options={"endpoint_url": http_lab.url, "username": "filiale"}, secrets={"password": "geheim"},
    )
    # The order was placed by e-mail; the lab's interface takes it over (as after "erneut senden").
    EarmouldOrder.objects.filter(pk=remake.pk).update(backend=definition.backend, interface_definition=definition)
    http_lab.script(Reply.json({"auftragsnummer": "HL-1"}, status=201), path="/auftraege")

    assert dispatch.run(remake.dispatch.pk) == OrderStatus.CONFIRMED
    [request] = http_lab.requests
    parts = request.multipart()
    order = json.loads(parts["order"][0][2])
    right, left = sorted(order["positionen"], key=lambda item: item["seite"] != "right")
    assert right["labor_codes"] == {"style": "D-SCH", "material": "D-SIL50"}
    assert left["labor_codes"] == {"style": "D-STO", "material": "D-SIL50"}
    assert (right["oberflaeche"], right["gravur"], right["rueckholfaden"], right["abdruck_etikett"]) == ("matte", "EM rechts", True, "Box 17")
    assert (left["hoerer_typ"], left["shore_a"], left["scan_format"]) == ("Phonak M", "50", "stl_ascii")
    assert (order["auftragsart"], order["grund"]) == ("remake", "Pfeift beim Kauen")
    assert parts["scan"] == [("left.stl", "model/stl", b"solid left\nendsolid left\n")]


def test_pdf_shows_the_whole_specification(remake):
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(render_order_form(build_document(remake)))).pages)
    for expected in (
        "Reklamation/Nachfertigung", remake.original_order.number, "Pfeift beim Kauen",
        "60 Shore A", "matt", "Libby-Horn 3 mm", "lang", "Rückholfaden", "EM rechts", "Box 17", "JJD000123",
        "Phonak M", "Leistung M", "Länge 2", "left.stl", "[D-SCH]", "[D-SIL50]",
    ):
        assert expected in text, expected


# --- the lab's codes in the XML formats ------------------------------------------------------------


def test_opentrans_order_with_codes_and_full_spec_is_schema_valid(remake):
    xml = opentrans.build_order(build_document(remake), buyer_id="AKU-1", supplier_account="EG-4711")
    assert opentrans.schema_errors(xml, opentrans_xsd()) == []
    ns = {"ot": opentrans.OPENTRANS_NS, "bmecat": opentrans.BMECAT_NS}
    tree = etree.fromstring(xml)
    remarks = {r.get("type"): r.text for r in tree.iterfind("ot:ORDER_HEADER/ot:ORDER_INFO/ot:REMARKS", ns)}
    assert (remarks["originalOrder"], remarks["reason"]) == (remake.original_order.number, "Pfeift beim Kauen")
    right = next(
        item for item in tree.iterfind("ot:ORDER_ITEM_LIST/ot:ORDER_ITEM", ns)
        if item.find("ot:PRODUCT_FEATURES/ot:FEATURE[bmecat:FNAME='side']/bmecat:FVALUE", ns).text == "right"
    )
    assert right.findtext("ot:PRODUCT_ID/bmecat:SUPPLIER_PID", namespaces=ns) == "bte-D-SCH-D-SIL50"
    style = right.find("ot:PRODUCT_FEATURES/ot:FEATURE[bmecat:FNAME='style']", ns)
    assert (style.findtext("bmecat:FVALUE", namespaces=ns), style.findtext("bmecat:FDESCR", namespaces=ns)) == ("D-SCH", "shell")
    features = {
        f.findtext("bmecat:FNAME", namespaces=ns): f.findtext("bmecat:FVALUE", namespaces=ns)
        for f in right.iterfind("ot:PRODUCT_FEATURES/ot:FEATURE", ns)
    }
    assert {k: features[k] for k in ("shore_a_hardness", "surface_finish", "extraction_cord", "engraving", "impression_box_label")} == {
        "shore_a_hardness": "60", "surface_finish": "matte", "extraction_cord": "true",
        "engraving": "EM rechts", "impression_box_label": "Box 17",
    }


def test_audia_xml_carries_codes_as_attribute(remake):
    root = etree.fromstring(order_xml(build_document(remake)))
    left = root.find("Items/Item[@side='left']")
    assert (left.find("Style").text, left.find("Style").get("code")) == ("canal", "D-STO")
    assert left.findtext("ReceiverType") == "Phonak M" and left.findtext("ShoreHardness") == "50"
    assert left.find("ImpressionDetails").get("kind") == "scan"
    assert left.findtext("ImpressionDetails/ScanFile") == "left.stl"
    assert (root.findtext("OriginalOrder"), root.findtext("Reason")) == (remake.original_order.number, "Pfeift beim Kauen")


def test_api_date_required_in_the_past(transaction_obj, dreve, dreve_supplier, alice):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = api_post(api(alice), transaction_obj, dreve, dreve_supplier, [bte_item()], date_required=yesterday)
    assert response.status_code == 400
    assert "Vergangenheit" in response.json()["errors"]["date_required"][0]
    assert counts() == (0, 0, 0, 0)


def test_api_names_catalogue_and_header_mistakes_in_one_answer(transaction_obj, dreve, dreve_supplier, alice):
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="tube", value="thin_0_9", code="D-DS")
    response = api_post(api(alice), transaction_obj, dreve, dreve_supplier, [bte_item()], order_type="remake")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "standard_2_1" in errors["items"][0]["tube"][0]
    assert set(errors) >= {"items", "original_order", "reason"}
    assert counts() == (0, 0, 0, 0)
