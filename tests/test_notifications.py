"""Notifications: created from order events for the branch's staff, rendered in the reader's
language, overdue once per order and day, the daily digest once per user and day."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import translation

from branches.models import Role
from otoorder.backends.labstatus import StatusUpdate
from otoorder.notifications import digest, overdue
from otoorder.notifications.choices import Kind
from otoorder.notifications.models import Digest, Notification, Preference
from otoorder.notifications.services import kind_of
from otoorder.notifications.texts import message, tracking_link
from otoorder.orders import lifecycle, services
from otoorder.orders.choices import EventSource, MessageDirection, OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.models import Cancellation, EarmouldOrder, OrderEvent, OrderMessage
from otoorder.vocabulary import Carrier
from tests import factories as f
from tests.factories import bte_item

pytestmark = pytest.mark.django_db
S = OrderStatus


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the notifications) at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def place(transaction_obj, company, supplier, user):
    return services.place_order(
        transaction_obj=transaction_obj, company=company, supplier=supplier, items=[bte_item()], user=user
    )


@pytest.fixture
def ordered(transaction_obj, dreve, dreve_supplier, alice):
    order = place(transaction_obj, dreve, dreve_supplier, alice)
    lifecycle.set_status(order, S.SENDING, source=EventSource.WORKER)
    lifecycle.set_status(order, S.ORDERED, source=EventSource.WORKER)
    return order


@pytest.fixture
def people(alice, bob, carol, dave):
    """Alice (staff) and Carol (branch admin) of Mitte; Bob of Nord; Dave the chain admin."""
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}


def recipients(order, kind):
    return sorted(n.recipient.username for n in Notification.objects.filter(order=order, kind=kind))


# --- Which event is which kind -------------------------------------------------------------


@pytest.mark.parametrize(
    "from_status, to_status, source, code, kind",
    [
        (S.ORDERED, S.CONFIRMED, "lab", "", Kind.CONFIRMED),
        (S.SENDING, S.CONFIRMED, "worker", "", Kind.CONFIRMED),
        (S.ON_HOLD, S.CONFIRMED, "lab", "lab_resumed", None),
        (S.ON_HOLD, S.IN_PRODUCTION, "lab", "lab_resumed", None),
        (S.CANCEL_REQUESTED, S.CONFIRMED, "lab", "cancel_refused", Kind.CANCEL_REFUSED),
        (S.CANCEL_TO_REPORT, S.IN_PRODUCTION, "staff", "cancel_refused", Kind.CANCEL_REFUSED),
        (S.CANCEL_REQUESTED, S.CANCELLED, "lab", "cancel_accepted", Kind.CANCEL_ACCEPTED),
        (S.CONFIRMED, S.CANCELLED, "lab", {"code": "cancel_accepted", "params": {"by_lab": True}}, Kind.LAB_CANCELLED),
        (S.QUEUED, S.CANCELLED, "staff", {"code": "cancel_accepted", "params": {"immediate": True}}, None),
        (S.ON_HOLD, "", "lab", "lab_question", Kind.LAB_QUESTION),
        (S.CANCEL_REQUESTED, "", "lab", "cancel_refused", Kind.CANCEL_REFUSED),
        (S.CANCEL_TO_REPORT, S.CANCELLED, "staff", "", Kind.CANCEL_ACCEPTED),
        (S.CONFIRMED, S.CANCELLED, "lab", "", Kind.LAB_CANCELLED),
        (S.QUEUED, S.CANCELLED, "staff", "", None),
        (S.CONFIRMED, S.ON_HOLD, "lab", "lab_question", Kind.LAB_QUESTION),
        (S.IN_PRODUCTION, S.SHIPPED, "lab", "", Kind.SHIPPED),
        (S.SENDING, S.REJECTED_BY_LAB, "worker", "", Kind.REJECTED),
        (S.SENDING, S.FAILED, "worker", "", Kind.SEND_FAILED),
        (S.CONFIRMED, S.IN_PRODUCTION, "lab", "", None),
        (S.SHIPPED, S.RECEIVED, "staff", "", None),
        (S.ORDERED, S.CANCEL_REQUESTED, "staff", "cancel_requested", None),
        ("", "", "lab", "lab_answer_sent", None),
    ],
)
def test_kind_of_an_event(from_status, to_status, source, code, kind):
    data = code if isinstance(code, dict) else ({"code": code} if code else {})
    event = OrderEvent(from_status=from_status, to_status=to_status, source=source, data=data)
    assert kind_of(event) == kind


# --- Created from events, for whom ------------------------------------------------------------


def test_a_confirmation_notifies_the_branch_staff_once_each(ordered, people, commit):
    with commit():
        apply_status_update(ordered, StatusUpdate(status="confirmed", external_reference="D-77"))
    # Staff and the branch admin of Mitte; not Nord's staff, not the chain admin.
    assert recipients(ordered, Kind.CONFIRMED) == ["alice", "carol"]
    notification = Notification.objects.get(order=ordered, recipient=people["alice"])
    assert notification.params == {"lab": "Dreve"} and notification.read_at is None
    assert notification.event.to_status == S.CONFIRMED
    # The same report again changes nothing, and so notifies nobody twice.
    with commit():
        apply_status_update(ordered, StatusUpdate(status="confirmed", external_reference="D-77"))
    assert Notification.objects.filter(order=ordered).count() == 2


def test_a_rolled_back_change_notifies_nobody(ordered, people, commit):
    with commit():
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                apply_status_update(ordered, StatusUpdate(status="shipped", tracking_number="1Z999"))
                raise RuntimeError("rolled back")
    assert not Notification.objects.exists()


def test_who_caused_the_event_is_not_notified(ordered, people, commit):
    order = EarmouldOrder.objects.get(pk=ordered.pk)
    lifecycle.set_status(order, S.CANCEL_TO_REPORT, source=EventSource.STAFF, actor=people["alice"])
    with commit():
        lifecycle.set_status(order, S.CANCELLED, source=EventSource.STAFF, actor=people["carol"])
    assert recipients(order, Kind.CANCEL_ACCEPTED) == ["alice"]


def test_inactive_users_and_former_members_are_not_notified(ordered, people, commit):
    people["carol"].is_active = False
    people["carol"].save()
    newcomer = f.UserFactory(username="erik")
    f.MembershipFactory(user=newcomer, chain=ordered.branch.chain, branch=ordered.branch, role=Role.STAFF)
    with commit():
        apply_status_update(ordered, StatusUpdate(status="rejected_by_lab", external_status="abgelehnt"))
    assert recipients(ordered, Kind.REJECTED) == ["alice", "erik"]


def test_shipped_keeps_tracking_number_and_carrier(ordered, people, commit):
    with commit():
        apply_status_update(
            ordered, StatusUpdate(status="shipped", tracking_number="00340434161094042557", data={"carrier": "DHL"})
        )
    notification = Notification.objects.get(order=ordered, recipient=people["alice"], kind=Kind.SHIPPED)
    assert notification.params["tracking"] == "00340434161094042557"
    assert notification.params["carrier"] == Carrier.DHL
    assert tracking_link(notification).startswith("https://www.dhl.de/")
    assert "00340434161094042557" in tracking_link(notification)


def test_failed_sending_notifies(transaction_obj, dreve, dreve_supplier, people, commit):
    order = place(transaction_obj, dreve, dreve_supplier, people["alice"])
    lifecycle.set_status(order, S.SENDING, source=EventSource.WORKER)
    with commit():
        lifecycle.set_status(order, S.FAILED, source=EventSource.WORKER, message="SMTP 550")
    assert recipients(order, Kind.SEND_FAILED) == ["alice", "carol"]


def test_a_question_keeps_the_labs_words(ordered, people, commit):
    lifecycle.set_status(ordered, S.CONFIRMED, source=EventSource.LAB)
    with commit():
        with transaction.atomic():
            OrderMessage.objects.create(
                order=ordered, direction=MessageDirection.FROM_LAB, text="Welche Farbe genau? RAL-Nummer bitte."
            )
            lifecycle.set_status(ordered, S.ON_HOLD, source=EventSource.LAB, data={"code": "lab_question"})
    notification = Notification.objects.get(order=ordered, recipient=people["alice"], kind=Kind.LAB_QUESTION)
    assert notification.params["text"] == "Welche Farbe genau? RAL-Nummer bitte."


def test_a_question_names_its_message(ordered, people, commit):
    lifecycle.set_status(ordered, S.CONFIRMED, source=EventSource.LAB)
    first = OrderMessage.objects.create(order=ordered, direction=MessageDirection.FROM_LAB, text="Erste Frage")
    OrderMessage.objects.create(order=ordered, direction=MessageDirection.FROM_LAB, text="Spätere Frage")
    with commit():
        lifecycle.set_status(
            ordered, S.ON_HOLD, source=EventSource.LAB, data={"code": "lab_question", "params": {"message": str(first.pk)}}
        )
    assert set(Notification.objects.values_list("params__text", flat=True)) == {"Erste Frage"}


def test_the_question_from_the_event_params_wins(ordered, people, commit):
    with commit():
        lifecycle.set_status(
            ordered, S.ON_HOLD, source=EventSource.LAB, data={"code": "lab_question", "params": {"lab_text": "Länge?"}}
        )
    assert Notification.objects.filter(kind=Kind.LAB_QUESTION, params__text="Länge?").count() == 2


def test_a_refused_cancellation_keeps_the_labs_reason(ordered, people, commit):
    lifecycle.set_status(ordered, S.CONFIRMED, source=EventSource.LAB)
    lifecycle.set_status(ordered, S.CANCEL_REQUESTED, source=EventSource.STAFF, actor=people["alice"])
    with commit():
        with transaction.atomic():
            Cancellation.objects.create(
                order=ordered, previous_status=S.CONFIRMED, outcome="refused", lab_answer="bereits in Fertigung"
            )
            lifecycle.set_status(ordered, S.CONFIRMED, source=EventSource.LAB, data={"code": "cancel_refused"})
    assert recipients(ordered, Kind.CANCEL_REFUSED) == ["alice", "carol"]
    assert recipients(ordered, Kind.CONFIRMED) == []
    notification = Notification.objects.get(order=ordered, recipient=people["carol"])
    assert notification.params["text"] == "bereits in Fertigung"


# --- Rendered in the reader's language -----------------------------------------------------


def rendered(order, kind, params, language):
    with translation.override(language):
        return message(Notification(order=order, kind=kind, params=params))


@pytest.mark.parametrize(
    "kind, params, german, english",
    [
        (Kind.CONFIRMED, {"lab": "Dreve"}, "wurde vom Labor Dreve bestätigt", "was confirmed by the lab Dreve"),
        (
            Kind.SHIPPED,
            {"lab": "Dreve", "tracking": "1Z999"},
            "wurde von Dreve versandt. Sendungsnummer: 1Z999",
            "was shipped by Dreve. Tracking number: 1Z999",
        ),
        (
            Kind.LAB_QUESTION,
            {"lab": "Dreve", "text": "Welche Farbe?"},
            "Rückfrage des Labors Dreve zu Bestellung",
            "Question from the lab Dreve about order",
        ),
        (
            Kind.CANCEL_REFUSED,
            {"lab": "Dreve", "text": "bereits in Fertigung"},
            "hat die Stornierung von Bestellung",
            "refused the cancellation of order",
        ),
        (Kind.CANCEL_ACCEPTED, {"lab": "Dreve"}, "angenommen", "accepted the cancellation"),
        (Kind.REJECTED, {"lab": "Dreve"}, "abgelehnt", "was rejected by the lab Dreve"),
        (Kind.SEND_FAILED, {"lab": "Dreve"}, "konnte nicht gesendet werden", "could not be sent"),
        (Kind.LAB_CANCELLED, {"lab": "Dreve"}, "hat Bestellung", "cancelled order"),
        (Kind.OVERDUE, {"lab": "Dreve", "due": "2026-11-27"}, "fällig seit 27.11.2026", "due since 11/27/2026"),
    ],
)
def test_rendered_in_german_and_english(ordered, kind, params, german, english):
    de, en = rendered(ordered, kind, params, "de"), rendered(ordered, kind, params, "en")
    assert german in de and ordered.number in de
    assert english in en and ordered.number in en
    # The lab's words stay as the lab wrote them, in either language.
    if "text" in params:
        assert params["text"] in de and params["text"] in en


def test_nothing_rendered_is_stored(ordered, people, commit):
    with commit():
        apply_status_update(ordered, StatusUpdate(status="confirmed"))
    stored = Notification.objects.filter(order=ordered).values_list("params", flat=True)
    assert all(set(params) == {"lab"} for params in stored)


# --- Overdue: once per order and day -------------------------------------------------------


def overdue_order(transaction_obj, company, supplier, user, *, eta):
    order = place(transaction_obj, company, supplier, user)
    lifecycle.set_status(order, S.SENDING, source=EventSource.WORKER)
    lifecycle.set_status(order, S.ORDERED, source=EventSource.WORKER)
    EarmouldOrder.objects.filter(pk=order.pk).update(eta=eta)
    return order


def test_overdue_notifies_once_per_order_and_day(transaction_obj, dreve, dreve_supplier, people):
    today = date(2026, 12, 1)
    late = overdue_order(transaction_obj, dreve, dreve_supplier, people["alice"], eta=date(2026, 11, 27))
    on_time = overdue_order(transaction_obj, dreve, dreve_supplier, people["alice"], eta=date(2026, 12, 3))
    overdue.notify_overdue(today)
    overdue.notify_overdue(today)  # a second run of the same day adds nothing
    assert recipients(late, Kind.OVERDUE) == ["alice", "carol"]
    assert recipients(on_time, Kind.OVERDUE) == []
    notification = Notification.objects.get(order=late, recipient=people["alice"])
    assert notification.day == today and notification.params == {"lab": "Dreve", "due": "2026-11-27"}
    # The next day it is still overdue: one more each.
    overdue.notify_overdue(today + timedelta(days=1))
    assert Notification.objects.filter(order=late, kind=Kind.OVERDUE).count() == 4
    # Shipped orders are no longer overdue.
    lifecycle.set_status(late, S.SHIPPED, source=EventSource.LAB)
    overdue.notify_overdue(today + timedelta(days=2))
    assert Notification.objects.filter(order=late, kind=Kind.OVERDUE).count() == 4


def test_overdue_by_date_required_and_only_for_its_branch(transaction_obj, dreve, dreve_supplier, people, nord):
    order = overdue_order(transaction_obj, dreve, dreve_supplier, people["alice"], eta=None)
    EarmouldOrder.objects.filter(pk=order.pk).update(date_required=date(2026, 11, 30))
    assert overdue.notify_overdue(date(2026, 12, 1)) == 2
    assert recipients(order, Kind.OVERDUE) == ["alice", "carol"]


# --- The daily digest -----------------------------------------------------------------------


@pytest.fixture
def with_email(people):
    for user in people.values():
        user.email = f"{user.username}@hoerwelt.test"
        user.save()
    return people


def test_digest_once_per_user_and_day(ordered, with_email, commit, settings):
    settings.OTOORDER_BASE_URL = "https://otoorder.example.test"
    day = date(2026, 12, 1)
    with commit():
        apply_status_update(ordered, StatusUpdate(status="rejected_by_lab", external_status="abgelehnt"))
    assert digest.send_digests(day) == 2  # alice and carol (rejections are in the default set)
    assert sorted(message.to[0] for message in mail.outbox) == ["alice@hoerwelt.test", "carol@hoerwelt.test"]
    body = mail.outbox[0].body
    assert ordered.number in body and "abgelehnt" in body
    assert "https://otoorder.example.test/benachrichtigungen/" in body
    # No customer name in the mail.
    assert ordered.customer.last_name not in body and ordered.customer.first_name not in body
    # A re-run the same day sends nothing, even with news.
    with commit():
        lifecycle.set_status(
            EarmouldOrder.objects.get(pk=ordered.pk), S.QUEUED, source=EventSource.STAFF, actor=with_email["dave"]
        )
        lifecycle.set_status(EarmouldOrder.objects.get(pk=ordered.pk), S.SENDING, source=EventSource.WORKER)
        lifecycle.set_status(EarmouldOrder.objects.get(pk=ordered.pk), S.FAILED, source=EventSource.WORKER)
    assert digest.send_digests(day) == 0
    assert len(mail.outbox) == 2
    assert Digest.objects.filter(day=day, sent_at__isnull=False).count() == 2
    # The next day brings the news of the day before that nobody read; never the mailed ones.
    assert digest.send_digests(day + timedelta(days=1)) == 2
    assert "konnte nicht gesendet werden" in mail.outbox[-1].body
    assert "abgelehnt" not in mail.outbox[-1].body
    assert Notification.objects.filter(digest__isnull=True).count() == 0


def test_digest_respects_preferences_language_and_read(ordered, with_email, commit):
    Preference.objects.create(user=with_email["alice"], digest_kinds=[Kind.SHIPPED], language="en")
    Preference.objects.create(user=with_email["carol"], digest_kinds=[], language="de")
    with commit():
        apply_status_update(ordered, StatusUpdate(status="shipped", tracking_number="1Z999"))
    assert digest.send_digests(date(2026, 12, 1)) == 1
    (sent,) = mail.outbox
    assert sent.to == ["alice@hoerwelt.test"]
    assert "was shipped by Dreve" in sent.body and "Tracking number: 1Z999" in sent.body
    assert sent.subject == "otoorder: 1 unread notification"
    # What was read in the app is not mailed.
    with commit():
        apply_status_update(ordered, StatusUpdate(status="shipped", external_status="zugestellt", tracking_number="1Z999"))
    Notification.objects.mark_read()
    assert digest.send_digests(date(2026, 12, 2)) == 0


def test_digest_leaves_out_the_labs_words(ordered, with_email, commit):
    with commit():
        lifecycle.set_status(
            ordered, S.ON_HOLD, source=EventSource.LAB, data={"code": "lab_question", "params": {"text": "Ist Frau X allergisch?"}}
        )
    assert digest.send_digests(date(2026, 12, 1)) == 2
    assert all("allergisch" not in sent.body and ordered.number in sent.body for sent in mail.outbox)


def test_digest_refused_by_smtp_is_tried_again(ordered, with_email, commit, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nothing listens
    with commit():
        apply_status_update(ordered, StatusUpdate(status="rejected_by_lab"))
    assert digest.send_digests(date(2026, 12, 1)) == 0
    assert not Digest.objects.exists() and not Notification.objects.filter(digest__isnull=False).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digest.send_digests(date(2026, 12, 1)) == 2


def test_beat_runs_both_tasks(settings, transaction_obj, dreve, dreve_supplier, with_email):
    from otoorder.notifications import tasks

    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["notify-overdue"]["task"] == tasks.notify_overdue.name
    assert schedule["send-digests"]["task"] == tasks.send_digests.name
    overdue_order(transaction_obj, dreve, dreve_supplier, with_email["alice"], eta=date(2020, 1, 2))
    assert tasks.notify_overdue() == 2
    assert tasks.send_digests() == 2 and tasks.send_digests() == 0
