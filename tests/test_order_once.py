"""An order is placed once per key: the order form's one-time token (browser back and submit
again shows the first order) and the API's ``Idempotency-Key`` (same key and body: the same
order, 200; another body: 422 ``idempotency_key_reused``). Two submissions at once are settled
by the database's unique constraint, not by a check before the insert."""

import threading
import uuid

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from otoorder.orders import idempotency
from otoorder.orders.models import EarmouldOrder, OrderSubmission
from otoorder.transactions.models import Transaction
from tests import factories as f
from tests.lifecycle_fixtures import client_alice, client_bob, dreve_template, dreve_txn  # noqa: F401
from tests.test_order_form import ear, post_data, url

pytestmark = pytest.mark.django_db


def form_token(client, txn):
    return client.get(url(txn)).context["forms"].header["submission_token"].value()


# --- the order form ------------------------------------------------------------------------


def test_the_form_carries_a_fresh_token_each_time(client_alice, dreve_txn):
    page = client_alice.get(url(dreve_txn))
    token = page.context["forms"].header["submission_token"].value()
    assert f'name="submission_token" value="{token}"' in page.content.decode()
    assert uuid.UUID(str(token)) and form_token(client_alice, dreve_txn) != token


def test_submitting_the_same_form_again_shows_the_first_order(client_alice, dreve_txn, dreve_supplier):
    data = post_data(dreve_supplier, ear("right", f.bte_item(vent_diameter_mm="1,5")))
    data["submission_token"] = str(form_token(client_alice, dreve_txn))
    first = client_alice.post(url(dreve_txn), data)
    assert first.status_code == 302
    order = EarmouldOrder.objects.get()
    # Browser back, the form as it was, "Bestellen" again (also with a changed field).
    again = client_alice.post(url(dreve_txn), {**data, "right-colour": "rot"}, follow=True)
    assert EarmouldOrder.objects.count() == 1
    assert again.redirect_chain[-1][0] == reverse("orders:order_detail", kwargs={"pk": order.pk})
    assert f"das ist die Bestellung {order.number}" in again.content.decode()
    # A new form (a new token) orders again.
    data["submission_token"] = str(form_token(client_alice, dreve_txn))
    assert client_alice.post(url(dreve_txn), data).status_code == 302
    assert EarmouldOrder.objects.count() == 2


def test_a_refused_submission_keeps_the_token_usable(client_alice, dreve_txn, dreve_supplier):
    token = str(form_token(client_alice, dreve_txn))
    refused = client_alice.post(url(dreve_txn), {**post_data(dreve_supplier, ear("right", {})), "submission_token": token})
    assert refused.status_code == 200 and EarmouldOrder.objects.count() == 0
    assert f'value="{token}"' in refused.content.decode()
    assert not OrderSubmission.objects.exists()
    data = {**post_data(dreve_supplier, ear("right", f.bte_item(vent_diameter_mm="1,5"))), "submission_token": token}
    assert client_alice.post(url(dreve_txn), data).status_code == 302
    assert EarmouldOrder.objects.count() == 1


def test_a_broken_token_is_a_field_error_not_a_500(client_alice, dreve_txn, dreve_supplier):
    data = {**post_data(dreve_supplier, ear("right", f.bte_item(vent_diameter_mm="1,5"))), "submission_token": "x" * 5000}
    response = client_alice.post(url(dreve_txn), data)
    assert response.status_code == 200 and EarmouldOrder.objects.count() == 0
    assert "bitte die Seite neu laden" in response.content.decode()


# --- the API -------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(txn, supplier, **item):
    return {
        "transaction": str(txn.pk),
        "company": str(supplier.company_id),
        "supplier": str(supplier.pk),
        "items": [f.bte_item("right", **item)],
    }


def post(client, data, key):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/api/v1/orders/", data, format="json", **headers)


def test_same_key_and_body_answer_the_same_order(dreve_txn, dreve_supplier, alice):
    client = api(alice)
    first = post(client, body(dreve_txn, dreve_supplier), "bestellung-4711")
    assert first.status_code == 201, first.json()
    again = post(client, body(dreve_txn, dreve_supplier), "bestellung-4711")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["number"] == first.json()["number"]
    assert EarmouldOrder.objects.count() == 1
    submission = OrderSubmission.objects.get()
    assert (submission.key, submission.scope, submission.branch, str(submission.order_id)) == (
        "bestellung-4711", f"api:{alice.pk}", dreve_txn.branch, first.json()["id"]
    )
    assert submission.body_sha256 == idempotency.body_hash(body(dreve_txn, dreve_supplier))


def test_same_key_with_another_body_is_refused(dreve_txn, dreve_supplier, alice):
    client = api(alice)
    first = post(client, body(dreve_txn, dreve_supplier), "k-1")
    refused = post(client, body(dreve_txn, dreve_supplier, colour="rot"), "k-1")
    assert refused.status_code == 422
    assert refused.json()["code"] == "idempotency_key_reused"
    assert first.json()["number"] in refused.json()["detail"]
    assert EarmouldOrder.objects.count() == 1


def test_keys_belong_to_the_user(dreve_txn, dreve_supplier, alice, carol):
    assert post(api(alice), body(dreve_txn, dreve_supplier), "k-1").status_code == 201
    assert post(api(carol), body(dreve_txn, dreve_supplier), "k-1").status_code == 201
    assert EarmouldOrder.objects.count() == 2


def test_without_key_every_request_orders(dreve_txn, dreve_supplier, alice):
    client = api(alice)
    assert [post(client, body(dreve_txn, dreve_supplier), None).status_code for _ in range(2)] == [201, 201]
    assert EarmouldOrder.objects.count() == 2 and not OrderSubmission.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "mit leerzeichen", "ümlaut"])
def test_invalid_keys_are_field_errors(dreve_txn, dreve_supplier, alice, key):
    response = post(api(alice), body(dreve_txn, dreve_supplier), key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "Idempotency-Key" in response.json()["errors"]
    assert EarmouldOrder.objects.count() == 0


def test_a_refused_order_does_not_use_up_the_key(dreve_txn, dreve_supplier, alice):
    client = api(alice)
    refused = post(client, {**body(dreve_txn, dreve_supplier), "company": None}, "k-2")
    assert refused.status_code == 422 and refused.json()["code"] == "no_company"
    assert post(client, body(dreve_txn, dreve_supplier), "k-2").status_code == 201


def test_the_schema_documents_the_header_and_the_answers():
    from drf_spectacular.generators import SchemaGenerator

    operation = SchemaGenerator().get_schema(request=None, public=True)["paths"]["/api/v1/orders/"]["post"]
    (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and not header.get("required")
    assert {"200", "201", "422"} <= set(operation["responses"])


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_create_one_order(dreve_template, customer, dreve_supplier, alice):
    """Two threads with their own database connections: the second waits on the unique
    constraint while the first commits, then answers the first's order."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    txn = Transaction.objects.start(customer=customer, template=dreve_template, user=alice)
    data = body(txn, dreve_supplier)
    barrier = threading.Barrier(2)
    answers = []

    def submit():
        try:
            barrier.wait(timeout=10)
            response = post(api(alice), data, "gleichzeitig")
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(code for code, _id in answers) == [200, 201]
    assert len({order_id for _code, order_id in answers}) == 1
    assert EarmouldOrder.objects.count() == 1


def test_the_link_that_opens_the_form_carries_the_token_and_back_finds_it(client_alice, dreve_txn, dreve_supplier):
    detail = client_alice.get(reverse("transactions:transaction_detail", kwargs={"pk": dreve_txn.pk}))
    link = next(part for part in detail.content.decode().split('"') if "bestellservice/?token=" in part)
    token = link.split("token=")[1]
    assert str(client_alice.get(link).context["forms"].header["submission_token"].value()) == token
    data = {**post_data(dreve_supplier, ear("right", f.bte_item(vent_diameter_mm="1,5"))), "submission_token": token}
    assert client_alice.post(link, data).status_code == 302
    # Browser back: the same address, the same token, and the page says it was sent already.
    back = client_alice.get(link)
    order = EarmouldOrder.objects.get()
    assert back.context["already_submitted"] == order and 'id="already-submitted"' in back.content.decode()


def test_the_database_refuses_a_key_twice(dreve_txn, dreve_supplier, alice):
    """The guarantee is the unique constraint, not the look-up before the insert."""
    from django.db import IntegrityError, transaction

    values = {"scope": f"api:{alice.pk}", "branch": dreve_txn.branch, "key": "k-9", "body_sha256": "a" * 64}
    OrderSubmission.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderSubmission.objects.create(**{**values, "body_sha256": "b" * 64})
    # Another branch or another sender may use the same key.
    OrderSubmission.objects.create(**{**values, "scope": "form:1"})
