"""When staff may answer the lab: while the lab still has the order, not after it shipped."""

import pytest
from django.urls import reverse

from otoorder.orders import lab_messages
from otoorder.orders.choices import MessageChannel, MessageDirection, OrderStatus
from otoorder.orders.models import OrderMessage
from tests.lifecycle_fixtures import client_alice, dreve_template, dreve_txn, ordered_order, walk  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(dreve_txn, dreve_supplier, alice):
    order = ordered_order(dreve_txn, dreve_supplier, alice)
    lab_messages.record_question(order, text="Welche Ventgröße?", channel=MessageChannel.EMAIL)
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    return order


def test_the_answer_form_is_offered_while_the_lab_waits_and_says_what_it_is(client_alice, asked):
    page = client_alice.get(reverse("orders:order_detail", args=[asked.pk])).content.decode()
    assert 'id="answer-form"' in page
    assert "Ihre Antwort" in page


def test_after_shipment_the_thread_stays_but_nothing_can_be_answered(client_alice, asked, alice):
    lab_messages.answer(asked, user=alice, text="3 mm")
    asked.refresh_from_db()
    walk(asked, OrderStatus.IN_PRODUCTION, OrderStatus.SHIPPED)
    assert not lab_messages.can_answer(asked)

    page = client_alice.get(reverse("orders:order_detail", args=[asked.pk])).content.decode()
    assert 'id="message-thread"' in page
    assert 'id="answer-form"' not in page

    before = OrderMessage.objects.filter(order=asked, direction=MessageDirection.TO_LAB).count()
    response = client_alice.post(reverse("orders:order_message", args=[asked.pk]), {"text": "noch etwas"}, follow=True)
    assert response.status_code == 200
    assert "Nachrichten an das Labor gehen nur zu einer Rückfrage des Labors." in response.content.decode()
    assert OrderMessage.objects.filter(order=asked, direction=MessageDirection.TO_LAB).count() == before
