"""Impression logistics: box labels and parcels (Sammelversand) — the service, the lab's receipt,
the pages and the PDFs (text extracted, the QR code rendered and decoded)."""

import io

import pypdfium2
import pytest
import zxingcpp
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders import labels, lifecycle, parcels, scans, services
from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.orders.event_texts import TEXTS
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.models import Impression, OrderEvent, Parcel
from tests import factories as f
from tests import scan_files
from tests.factories import bte_item
from tests.test_impressions_api import private_media  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def physical(customer, side, user):
    return scans.create_impression(customer=customer, side=side, kind="physical", user=user)


def scan(customer, user):
    upload = SimpleUploadedFile("rechts.stl", scan_files.stl_binary())
    return scans.create_impression(customer=customer, side="right", kind="scan", user=user, upload=upload)


def order_with_impressions(transaction_obj, company, supplier, user, sides=("right", "left"), status=OrderStatus.CONFIRMED):
    impressions = {side: physical(transaction_obj.customer, side, user) for side in sides}
    order = services.place_order(
        transaction_obj=transaction_obj,
        company=company,
        supplier=supplier,
        items=[bte_item(side, impression=impressions[side]) for side in sides],
        user=user,
    )
    for step in {
        OrderStatus.QUEUED: (),
        OrderStatus.CONFIRMED: (OrderStatus.SENDING, OrderStatus.CONFIRMED),
        OrderStatus.SHIPPED: (OrderStatus.SENDING, OrderStatus.CONFIRMED, OrderStatus.SHIPPED),
    }[status]:
        lifecycle.set_status(order, step, source=EventSource.WORKER)
    return order, impressions


@pytest.fixture
def egger(db):
    company = f.CompanyFactory(name="egger")
    return company, f.SupplierFactory(company=company, order_email="auftrag@egger.test")


@pytest.fixture
def two_orders(transaction_obj, dreve, dreve_supplier, alice):
    first, first_impressions = order_with_impressions(transaction_obj, dreve, dreve_supplier, alice)
    second, second_impressions = order_with_impressions(transaction_obj, dreve, dreve_supplier, alice, sides=("left",))
    return (first, first_impressions), (second, second_impressions)


def ids(impressions):
    return [impression.pk for impression in impressions.values()]


def refusal_codes(exc):
    return [error.code for error in exc.value.error_dict["impressions"]]


def test_open_items_are_the_physical_impressions_of_orders_to_the_lab(two_orders, alice, customer, dreve_supplier, egger):
    (first, first_impressions), (second, second_impressions) = two_orders
    # A scan, an impression without an order, one of a shipped order, one of another lab: not open.
    scan(customer, alice)
    physical(customer, "right", alice)
    txn = f.TransactionFactory(customer=customer, template=first.transaction.template, started_by=alice)
    order_with_impressions(txn, dreve_supplier.company, dreve_supplier, alice, sides=("right",), status=OrderStatus.SHIPPED)
    order_with_impressions(txn, egger[0], egger[1], alice, sides=("left",))
    items = list(parcels.open_items(alice, dreve_supplier))
    assert sorted(item.impression_id for item in items) == sorted(ids(first_impressions) + ids(second_impressions))
    # Right ear first within an order.
    assert [item.side for item in items if item.order == first] == ["right", "left"]


def test_create_parcel_links_impressions_records_events_and_sets_tracking(two_orders, alice, dreve_supplier):
    (first, first_impressions), (second, second_impressions) = two_orders
    parcel = parcels.create_parcel(
        user=alice,
        supplier=dreve_supplier,
        impressions=[str(pk) for pk in ids(first_impressions) + ids(second_impressions)],
        carrier="dhl",
        tracking_number=" 00340434161094042557 ",
    )
    assert parcel.branch == first.branch and parcel.is_open and parcel.created_by == alice
    assert parcel.tracking_number == "00340434161094042557"
    assert parcel.tracking_url.startswith("https://www.dhl.de/") and parcel.tracking_url.endswith("00340434161094042557")
    assert parcel.items.count() == 3
    assert set(Impression.objects.filter(parcel_item__parcel=parcel).values_list("tracking_number", flat=True)) == {
        "00340434161094042557"
    }
    for order in (first, second):
        event = order.events.get(data__code="impression_parcel_sent")
        assert event.data["params"] == {"supplier": "Dreve", "carrier": "DHL", "tracking_number": "00340434161094042557"}
        assert event.actor == alice
        assert "impression_parcel_sent" in TEXTS
        assert str(TEXTS["impression_parcel_sent"]) % event.data["params"] == event.message


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("scan", "impression_not_physical"),
        ("other_branch", "impression_not_found"),
        ("unknown", "impression_not_found"),
        ("no_order", "impression_without_order"),
        ("other_lab", "impression_other_lab"),
        ("shipped", "impression_without_order"),
    ],
)
def test_refusals_name_the_impression_with_a_code(case, code, alice, bob, customer, transaction_obj, dreve_supplier, egger, nord, template):
    if case == "scan":
        pk = scan(customer, alice).pk
    elif case == "other_branch":
        other = f.CustomerFactory(branch=nord)
        txn = f.TransactionFactory(customer=other, template=template, started_by=bob)
        _order, impressions = order_with_impressions(txn, dreve_supplier.company, dreve_supplier, bob, sides=("right",))
        pk = impressions["right"].pk
    elif case == "unknown":
        pk = "not-a-uuid"
    elif case == "no_order":
        pk = physical(customer, "right", alice).pk
    elif case == "other_lab":
        _order, impressions = order_with_impressions(transaction_obj, egger[0], egger[1], alice, sides=("right",))
        pk = impressions["right"].pk
    else:
        _order, impressions = order_with_impressions(
            transaction_obj, dreve_supplier.company, dreve_supplier, alice, sides=("right",), status=OrderStatus.SHIPPED
        )
        pk = impressions["right"].pk
    with pytest.raises(ValidationError) as exc:
        parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=[pk], carrier="dhl", tracking_number="1")
    assert refusal_codes(exc) == [code]
    assert Parcel.objects.count() == 0


def test_an_impression_travels_once(two_orders, alice, dreve_supplier):
    (_first, impressions), _second = two_orders
    parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=ids(impressions), carrier="dhl", tracking_number="A1")
    with pytest.raises(ValidationError) as exc:
        parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=ids(impressions)[:1], carrier="dpd", tracking_number="B2")
    assert refusal_codes(exc) == ["impression_in_parcel"]
    assert "A1" in exc.value.error_dict["impressions"][0].messages[0]


def test_mixed_branches_are_refused_for_a_chain_admin(dave, alice, bob, customer, transaction_obj, dreve_supplier, nord, template):
    _order, mine = order_with_impressions(transaction_obj, dreve_supplier.company, dreve_supplier, alice, sides=("right",))
    other = f.CustomerFactory(branch=nord)
    txn = f.TransactionFactory(customer=other, template=template, started_by=bob)
    _order, theirs = order_with_impressions(txn, dreve_supplier.company, dreve_supplier, bob, sides=("right",))
    with pytest.raises(ValidationError) as exc:
        parcels.create_parcel(
            user=dave, supplier=dreve_supplier, impressions=ids(mine) + ids(theirs), carrier="dhl", tracking_number="1"
        )
    assert refusal_codes(exc) == ["impressions_mixed_branches"]


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"carrier": "pigeon"}, "carrier", "invalid_carrier"),
        ({"tracking_number": "   "}, "tracking_number", "required"),
        ({"tracking_number": "9" * 101}, "tracking_number", "max_length"),
        ({"impressions": []}, "impressions", "no_impressions"),
        ({"impressions": [f"00000000-0000-0000-0000-{n:012d}" for n in range(parcels.MAX_IMPRESSIONS + 1)]}, "impressions", "too_many_impressions"),
        ({"impressions": ["00000000-0000-0000-0000-000000000001"] * 2}, "impressions", "duplicate_impressions"),
    ],
)
def test_field_refusals(values, field, code, alice, dreve_supplier):
    arguments = {"carrier": "dhl", "tracking_number": "1", "impressions": ["00000000-0000-0000-0000-000000000001"], **values}
    with pytest.raises(ValidationError) as exc:
        parcels.create_parcel(user=alice, supplier=dreve_supplier, **arguments)
    assert [error.code for error in exc.value.error_dict[field]] == [code]


def test_the_labs_receipt_closes_the_parcel_when_every_impression_arrived(two_orders, alice, dreve_supplier):
    (first, first_impressions), (second, second_impressions) = two_orders
    parcel = parcels.create_parcel(
        user=alice, supplier=dreve_supplier, impressions=ids(first_impressions) + ids(second_impressions), carrier="dhl", tracking_number="P-1"
    )
    update = StatusUpdate(status="confirmed", external_status="received", impressions_received=("right", "left"))
    assert apply_status_update(first, update)
    parcel.refresh_from_db()
    assert parcel.is_open  # the second order's impression is still on its way
    assert [e.data["code"] for e in first.events.filter(data__code__startswith="impression_received")] == [
        "impression_received_right",
        "impression_received_left",
    ]
    # The same report again changes nothing.
    assert not apply_status_update(first, update)
    assert first.events.filter(data__code__startswith="impression_received").count() == 2
    # A report with an unchanged status but the receipt is not taken for the one before.
    apply_status_update(second, StatusUpdate(status="confirmed", external_status="received"))
    apply_status_update(second, StatusUpdate(status="confirmed", external_status="received", impressions_received=("left",)))
    parcel.refresh_from_db()
    assert not parcel.is_open and parcel.closed_by is None
    for order in (first, second):
        assert order.events.filter(data__code="parcel_closed_received").count() == 1
    assert Impression.objects.filter(lab_received_at__isnull=True, parcel_item__parcel=parcel).count() == 0


def test_receipt_of_an_impression_outside_a_parcel_is_recorded(transaction_obj, dreve, dreve_supplier, alice):
    order, impressions = order_with_impressions(transaction_obj, dreve, dreve_supplier, alice, sides=("right",))
    apply_status_update(order, StatusUpdate(status="in_production", impressions_received=("right", "left", "both")))
    impressions["right"].refresh_from_db()
    assert impressions["right"].lab_received_at is not None
    assert order.events.filter(data__code="impression_received_right").count() == 1
    # A received impression is no longer open.
    assert not parcels.open_items(alice, dreve_supplier).exists()


def test_staff_close_a_parcel_by_hand_once(two_orders, alice, dreve_supplier):
    (first, impressions), _second = two_orders
    parcel = parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=ids(impressions), carrier="gls", tracking_number="G-7")
    parcels.close_parcel(parcel, user=alice)
    parcel.refresh_from_db()
    assert not parcel.is_open and parcel.closed_by == alice
    event = first.events.get(data__code="parcel_closed_by_staff")
    assert event.data["params"] == {"tracking_number": "G-7"} and event.actor == alice
    with pytest.raises(ValidationError) as exc:
        parcels.close_parcel(parcel, user=alice)
    assert exc.value.code == "parcel_closed"


# --- PDFs -----------------------------------------------------------------------------------


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def decode_qr(content, name=None):
    """Render the PDF's first page and read its QR codes (as a scanner would)."""
    document = pypdfium2.PdfDocument(content)
    image = document[0].render(scale=4).to_pil()
    if name:
        from tests.browser import ARTIFACTS

        ARTIFACTS.mkdir(exist_ok=True)
        image.save(ARTIFACTS / name)
    return [result.text for result in zxingcpp.read_barcodes(image) if result.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("sheet", labels.FORMATS)
@pytest.mark.parametrize("language", ["de", "en"])
def test_label_pdf_carries_side_order_lab_branch_and_customer_number_never_the_name(
    client, alice, transaction_obj, dreve, dreve_supplier, customer, sheet, language
):
    order, impressions = order_with_impressions(transaction_obj, dreve, dreve_supplier, alice)
    client.force_login(alice)
    url = reverse("orders:impression_label", args=[impressions["right"].pk])
    response = client.get(url, {"format": sheet}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response.content)
    assert order.number in text and f"{order.number}-R" in text
    assert "Dreve" in text and "Filiale Mitte" in text and str(customer.customer_number) in text
    assert "Mustermann" not in text and "Erika" not in text
    assert ("RECHTS" if language == "de" else "RIGHT") in text
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    width_mm = float(page.mediabox.width) / 72 * 25.4
    assert round(width_mm) == (62 if sheet == labels.LABEL_62 else 210)
    assert decode_qr(response.content, f"label-{sheet}-{language}.png") == [order.number]
    left = client.get(reverse("orders:impression_label", args=[impressions["left"].pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert ("LINKS" if language == "de" else "LEFT") in pdf_text(left.content)


def test_label_of_an_impression_without_order_or_of_a_scan(client, alice, customer):
    client.force_login(alice)
    lonely = physical(customer, "right", alice)
    response = client.get(reverse("orders:impression_label", args=[lonely.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("orders:impression_detail", args=[lonely.pk])
    assert client.get(reverse("orders:impression_label", args=[scan(customer, alice).pk])).status_code == 404
    # An unknown format falls back to the label printer's.
    order_free = client.get(reverse("orders:impression_label", args=[lonely.pk]), {"format": "x" * 500})
    assert order_free.status_code == 302


@pytest.mark.parametrize("language", ["de", "en"])
def test_packing_list_pdf(client, alice, two_orders, dreve_supplier, customer, language):
    (first, first_impressions), (second, second_impressions) = two_orders
    parcel = parcels.create_parcel(
        user=alice, supplier=dreve_supplier, impressions=ids(second_impressions) + ids(first_impressions), carrier="dhl", tracking_number="00340434161094042557"
    )
    client.force_login(alice)
    response = client.get(reverse("orders:parcel_packing_list", args=[parcel.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for label in (f"{first.number}-R", f"{first.number}-L", f"{second.number}-L"):
        assert label in text
    assert "00340434161094042557" in text and "Dreve" in text and str(customer.customer_number) in text
    assert "Mustermann" not in text
    assert ("Packliste" if language == "de" else "Packing list") in text
    assert ("RECHTS" if language == "de" else "RIGHT") in text
    # Right ear first within an order, orders by number.
    assert text.index(f"{first.number}-R") < text.index(f"{first.number}-L") < text.index(f"{second.number}-L")
    decode_qr(response.content, f"packing-list-{language}.png")


# --- pages ----------------------------------------------------------------------------------


def test_parcel_page_creates_a_parcel_and_the_order_shows_it_on_its_way(client, alice, two_orders, dreve_supplier):
    (first, first_impressions), (second, _second_impressions) = two_orders
    client.force_login(alice)
    url = reverse("orders:parcel_create")
    page = client.get(url, {"labor": dreve_supplier.pk})
    assert page.status_code == 200
    content = page.content.decode()
    assert "Dreve (3 offene Abdrücke)" in content
    for pk in ids(first_impressions):
        assert f'value="{pk}"' in content
    response = client.post(
        url,
        {"supplier": dreve_supplier.pk, "impressions": [str(pk) for pk in ids(first_impressions)], "carrier": "dhl", "tracking_number": "00340434"},
    )
    parcel = Parcel.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("orders:parcel_detail", args=[parcel.pk])
    detail = client.get(response["Location"]).content.decode()
    assert reverse("orders:parcel_packing_list", args=[parcel.pk]) in detail and f"{first.number}-R" in detail
    order_page = client.get(reverse("orders:order_detail", args=[first.pk])).content.decode()
    assert "Abdruck unterwegs" in order_page and "https://www.dhl.de/" in order_page
    assert reverse("orders:impression_label", args=[first_impressions["right"].pk]) in order_page
    other = client.get(reverse("orders:order_detail", args=[second.pk])).content.decode()
    assert "Abdruck unterwegs" not in other
    impression_page = client.get(reverse("orders:impression_detail", args=[first_impressions["left"].pk])).content.decode()
    assert reverse("orders:impression_label", args=[first_impressions["left"].pk]) in impression_page
    assert reverse("orders:parcel_detail", args=[parcel.pk]) in impression_page
    # The packed impressions are no longer offered.
    again = client.get(url, {"labor": dreve_supplier.pk}).content.decode()
    assert "Dreve (1 offene Abdrücke)" in again


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"impressions": [], "carrier": "dhl", "tracking_number": "1"}, "Bitte mindestens einen Abdruck auswählen."),
        ({"carrier": "", "tracking_number": "1"}, "Bitte den Versanddienstleister wählen."),
        ({"carrier": "dhl", "tracking_number": ""}, "Bitte die Sendungsnummer des Pakets angeben."),
        ({"carrier": "dhl", "tracking_number": "1", "impressions": ["00000000-0000-0000-0000-000000000001"]}, "nicht mehr offen"),
    ],
)
def test_parcel_page_refusals_are_german_and_keep_the_input(client, alice, two_orders, dreve_supplier, data, message):
    (_first, first_impressions), _second = two_orders
    client.force_login(alice)
    data = {"supplier": dreve_supplier.pk, "impressions": [str(pk) for pk in ids(first_impressions)], **data}
    response = client.post(reverse("orders:parcel_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Parcel.objects.count() == 0


@pytest.mark.parametrize("supplier", ["", "nonsense", "00000000-0000-0000-0000-000000000001"])
def test_parcel_page_with_a_bad_lab_answers_404_or_asks_again(client, alice, supplier):
    client.force_login(alice)
    assert client.post(reverse("orders:parcel_create"), {"supplier": supplier}).status_code == 404
    assert client.get(reverse("orders:parcel_create"), {"labor": supplier}).status_code == 200


def test_parcel_pages_are_the_branchs(client, alice, bob, two_orders, dreve_supplier):
    (_first, impressions), _second = two_orders
    parcel = parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=ids(impressions), carrier="dhl", tracking_number="1")
    client.force_login(bob)
    assert "parcel-row" not in client.get(reverse("orders:parcel_list")).content.decode()
    assert "Dreve" not in client.get(reverse("orders:parcel_create")).content.decode()
    client.force_login(alice)
    assert client.get(reverse("orders:parcel_list")).content.decode().count('data-testid="parcel-row"') == 1
    response = client.post(reverse("orders:parcel_close", args=[parcel.pk]))
    assert response.status_code == 302
    parcel.refresh_from_db()
    assert parcel.closed_by == alice
    client.post(reverse("orders:parcel_close", args=[parcel.pk]))
    assert OrderEvent.objects.filter(data__code="parcel_closed_by_staff").count() == 1


def test_events_store_the_code_and_the_german_sentence_whatever_the_pages_language(client, alice, two_orders, dreve_supplier):
    (first, first_impressions), _second = two_orders
    client.force_login(alice)
    data = {"supplier": dreve_supplier.pk, "impressions": [str(pk) for pk in ids(first_impressions)], "carrier": "dpd", "tracking_number": "DPD-1"}
    assert client.post(reverse("orders:parcel_create"), data, HTTP_ACCEPT_LANGUAGE="en").status_code == 302
    parcel = Parcel.objects.get()
    client.post(reverse("orders:parcel_close", args=[parcel.pk]), HTTP_ACCEPT_LANGUAGE="en")
    sent, closed = first.events.filter(data__code__in=["impression_parcel_sent", "parcel_closed_by_staff"]).order_by("id")
    assert sent.message == "Abdruck unterwegs zu Dreve im Sammelversand: DPD, Sendungsnummer DPD-1."
    assert closed.message == "Sammelversand DPD-1 von Hand abgeschlossen."


def test_the_worklist_shows_the_impressions_on_their_way(client, two_orders, alice, dreve_supplier):
    (first, first_impressions), (second, _) = two_orders
    parcels.create_parcel(user=alice, supplier=dreve_supplier, impressions=ids(first_impressions), carrier="dhl", tracking_number="P-77")
    client.force_login(alice)

    def rows():
        html = client.get(reverse("orders:order_list")).content.decode()
        return {order.number: html.split(f'data-order="{order.number}"')[1].split("</tr>")[0] for order in (first, second)}

    shown = rows()
    assert "Abdruck unterwegs" in shown[first.number] and "P-77" in shown[first.number]
    assert "Abdruck unterwegs" not in shown[second.number]  # its impression is not packed yet
    # Once the lab reports both impressions, the row no longer says so.
    apply_status_update(first, StatusUpdate(status="confirmed", external_status="received", impressions_received=("right", "left")))
    assert "Abdruck unterwegs" not in rows()[first.number]
