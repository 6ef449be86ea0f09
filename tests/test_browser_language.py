"""In real Chromium: an order with events of many kinds (a failed send, status changes, a lab's
question, a refused cancellation) read in English shows no German event text — on the order
page, the customer page and the notifications; the language menu names each language in
itself and switches only when a button is pressed."""

import re

import pytest
from django.db import transaction

from otoorder.backends.exceptions import TransientError
from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders import cancellation, lab_messages, lifecycle, outbox, services
from otoorder.orders.choices import AttemptOutcome, EventSource, OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.models import Attempt
from otoorder.orders.outbox import lock_order
from tests.browser import log_in, screenshot
from tests.factories import bte_item

pytestmark = pytest.mark.browser

#: Words of German event sentences (none of them is English).
GERMAN = re.compile(
    r"\b(Bestellung|Labor|Labors|wurde|gesendet|übermittelt|Stornierung|Rückfrage|Versuch|erneut|bitte|"
    r"Statusmeldung|angefragt|abgelehnt|bestätigt|storniert|fehlgeschlagen|erreichbar|Versand)\b"
)


def failed_order(transaction_obj, dreve, dreve_supplier, alice):
    """Placed, two attempts that could not reach the lab, given up: the worker's events."""
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item("right")], user=alice
    )
    error = TransientError(code="http_unreachable", detail="ConnectionError")
    for number in (1, 2):
        lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER, code="sending")
        Attempt.objects.create(
            order=order, number=number, started_at=order.created_at, outcome=AttemptOutcome.TRANSIENT_ERROR,
            error=error.message, error_code=error.code, error_params=error.params,
        )
        if number == 1:
            lifecycle.set_status(
                order, OrderStatus.QUEUED, source=EventSource.WORKER, code="send_retry",
                params={"n": 1, "error": error.as_data(), "s": 30},
            )

    class Row:
        attempt_count = 2

    reason = outbox.failure(Row, error)
    order.failure_params = reason
    order.failure_reason = "(German text kept for the log)"
    lifecycle.set_status(
        order, OrderStatus.FAILED, source=EventSource.WORKER, code="send_failed", params=reason,
        save_fields=["failure_params", "failure_reason"],
    )
    return order


def order_at_the_lab(transaction_obj, dreve, dreve_supplier, alice):
    """Sent and confirmed, in production, a question of the lab answered by phone, a
    cancellation the lab refused (the lab's words in English-neutral text)."""
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item("left")], user=alice
    )
    lifecycle.set_status(order, OrderStatus.SENDING, source=EventSource.WORKER, code="sending")
    lifecycle.set_status(
        order, OrderStatus.CONFIRMED, source=EventSource.WORKER, code="sent",
        params={"variant": "confirmed", "reference": "D-4711"},
    )
    apply_status_update(order, StatusUpdate(status="in_production", external_status="PRODUCTION"))
    apply_status_update(order, StatusUpdate(status="on_hold", external_status="HOLD", lab_text="RAL 3020?"))
    lab_messages.answer(order, user=alice, text="RAL 3020.")
    order.refresh_from_db()
    cancellation.request(order, user=alice, reason="")
    with transaction.atomic():
        locked = lock_order(order.pk)
        cancellation.refuse(locked, cancellation.pending(locked), lab_text="PRODUCTION", source=EventSource.LAB)
    return order


def history_text(page):
    return " ".join(
        page.locator(selector).inner_text() for selector in ("#order-history tbody", "#order-attempts tbody")
    )


def test_an_english_reader_sees_no_german_event_text(
    transactional_db, live_server, page, alice, customer, transaction_obj, dreve, dreve_supplier
):
    from playwright.sync_api import expect

    failed = failed_order(transaction_obj, dreve, dreve_supplier, alice)
    at_lab = order_at_the_lab(transaction_obj, dreve, dreve_supplier, alice)
    assert at_lab.events.filter(data__code="cancel_refused").exists()
    assert at_lab.events.filter(data__code="lab_question").exists()

    log_in(page, live_server, "alice")
    order_url = f"{live_server.url}/bestellungen/{at_lab.pk}/"
    page.goto(order_url)
    history = page.locator("#order-history")
    expect(history).to_contain_text("Rückfrage des Labors: „RAL 3020?“")
    expect(history).to_contain_text("Das Labor hat die Stornierung abgelehnt. „PRODUCTION“")
    screenshot(page, "order-events-de.png")

    # The language menu: one button per language, named in itself; an arrow key moves
    # nothing and switches nothing, only pressing a button does.
    menu = page.locator("#language-menu")
    expect(menu.locator("button")).to_have_text(["Deutsch", "English"])
    expect(menu.locator("button[value=de]")).to_have_attribute("aria-pressed", "true")
    menu.locator("button[value=de]").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    menu.locator("button[value=en]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(order_url)  # back where the reader was
    expect(page.locator("#language-menu button[value=en]")).to_have_attribute("aria-pressed", "true")

    # The order at the lab: every event in English; the lab's words as the lab wrote them.
    history = page.locator("#order-history")
    expect(history).to_contain_text("Question from the lab: “RAL 3020?”")
    expect(history).to_contain_text("The lab refused the cancellation. “PRODUCTION”")
    expect(history).to_contain_text("Status report from the lab: PRODUCTION")
    text = history_text(page)
    assert not GERMAN.search(text), GERMAN.search(text)
    screenshot(page, "order-events-en.png")

    # The failed order: the reason and the attempts in English too.
    page.goto(f"{live_server.url}/bestellungen/{failed.pk}/")
    expect(page.locator("#failure-reason")).to_contain_text("The lab cannot be reached (connection failed).")
    expect(page.locator("#order-history")).to_contain_text("Attempt 1 failed (The lab cannot be reached")
    text = history_text(page) + page.locator("#failure-reason").inner_text()
    assert not GERMAN.search(text), GERMAN.search(text)
    screenshot(page, "order-failed-en.png")

    # The customer page and the notifications.
    page.goto(f"{live_server.url}/kunden/{customer.pk}/")
    main = page.locator("main").inner_text()
    assert not GERMAN.search(main), GERMAN.search(main)
    screenshot(page, "customer-en.png")
    page.goto(f"{live_server.url}/benachrichtigungen/")
    items = page.locator("[data-testid=notification]")
    expect(items.first).to_be_visible()
    notifications = " ".join(items.all_inner_texts())
    assert "RAL 3020?" in notifications
    assert not GERMAN.search(notifications), GERMAN.search(notifications)
    screenshot(page, "notifications-en.png")
