"""Lab questions (Rückfrage) and staff's answers: the message thread of an order.

A lab's question arrives with a report (``StatusUpdate(status="on_hold", lab_text=…)``,
through a callback, a status poll or an inbox file; ``lab_updates`` calls ``record_question``)
or staff record one that came by phone (``channel=manual``). It is stored once per report
key as an ``OrderMessage(direction=from_lab)`` and puts the order ``on_hold``.

Staff's answer is an ``OrderMessage(direction=to_lab)`` outbox row: the worker carries it with
the outbox's guarantees (``outbox.py``; key: the message's UUID) through the backend's
``send_message`` where the interface ``supports_lab_messages``, else by e-mail to the
supplier's order e-mail (subject with the order number and "Rückfrage", the question quoted,
nothing about the customer). A question staff read in an e-mail is answered by e-mail; one
taken by phone is answered the same way (recorded, not sent) and that resumes the order. Otherwise the order leaves ``on_hold`` when the
lab reports again (``lab_updates``: event code ``lab_resumed``).

Event codes: ``lab_question``, ``lab_answer_sent``, ``lab_resumed``.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from otoorder.backends import registry
from otoorder.backends.document import MessageDocument
from otoorder.backends.exceptions import ConfigurationError, TransientError
from otoorder.backends.result import MessageResult

from . import outbox
from .choices import (
    AT_LAB,
    CANCELLING,
    AttemptOutcome,
    AttemptPurpose,
    DispatchState,
    EventSource,
    MessageChannel,
    MessageDirection,
    OrderStatus,
)
from .documents import build_document
from .lifecycle import TRANSITIONS, InvalidTransition
from .lifecycle import record_event as _event
from .models import OrderMessage

logger = logging.getLogger(__name__)

MESSAGE_TASK = "otoorder.orders.tasks.send_lab_message"
#: Staff's answer (and a question taken by phone): at most this many characters.
TEXT_MAX = 2000
#: A lab's question is kept as written, up to this length.
LAB_TEXT_MAX = 10000
#: Statuses in which staff may record a question the lab asked by phone.
QUESTION_STATUSES = {OrderStatus.ORDERED, OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.ON_HOLD}


class NoQuestion(InvalidTransition):
    code = "no_question"


def clean_text(text, *, field="text"):
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: _("Bitte einen Text eingeben.")})
    if len(text) > TEXT_MAX:
        raise ValidationError(
            {field: _("Der Text darf höchstens %(max)d Zeichen lang sein (jetzt %(n)d).") % {"max": TEXT_MAX, "n": len(text)}}
        )
    return text


def record_question(order, *, text, lab_message_id="", key="", channel=MessageChannel.INTERFACE, source=EventSource.LAB,
                    actor=None, data=None):
    """Record a lab's question once (by ``key``) and put the order on hold; the caller holds
    the order's lock. Returns the message, or None when the key was recorded before."""
    if key and OrderMessage.objects.filter(order=order, external_key=key[:64]).exists():
        return None
    text = (text or "").strip()[:LAB_TEXT_MAX]
    message = OrderMessage.objects.create(
        order=order,
        direction=MessageDirection.FROM_LAB,
        channel=channel,
        text=text,
        author=actor if actor and actor.is_authenticated else None,
        lab_message_id=(lab_message_id or "")[:100],
        external_key=(key or "")[:64],
        state=DispatchState.DONE,
    )
    _event(
        order,
        code="lab_question",
        params={"message": str(message.pk), "channel": channel, **({"text": text} if text else {"variant": "empty"})},
        source=source,
        actor=actor,
        data=data,
        # While a cancellation is under way its answer decides the status.
        to_status=None if order.status in CANCELLING else OrderStatus.ON_HOLD,
    )
    return message


#: How a question may reach staff outside the interface; the answer goes back the same way.
STAFF_CHANNELS = (MessageChannel.MANUAL, MessageChannel.EMAIL)


def record_staff_question(order, *, user, text, channel=MessageChannel.MANUAL):
    """Staff took a question of the lab by phone (``manual``) or read it in an e-mail
    (``email``): recorded like one through the interface; the answer goes back the same way."""
    text = clean_text(text)
    if channel not in STAFF_CHANNELS:
        raise ValidationError({"channel": _("Bitte angeben, wie die Rückfrage kam (Telefon oder E-Mail).")})
    with transaction.atomic():
        order = outbox.lock_order(order.pk)
        if order.status not in QUESTION_STATUSES:
            raise NoQuestion(
                _("Eine Rückfrage des Labors lässt sich nur für eine Bestellung beim Labor erfassen; diese ist „%(status)s“.")
                % {"status": order.get_status_display()}
            )
        return record_question(order, text=text, channel=channel, source=EventSource.STAFF, actor=user)


def open_question(order):
    """The lab's latest question, or None."""
    return order.messages.filter(direction=MessageDirection.FROM_LAB).order_by("-created_at").first()


def can_answer(order):
    """Staff may write to the lab while the order is on hold, or after a question of the lab
    while the lab still has the order (once shipped, received or closed there is nothing the
    lab could still change)."""
    if order.status == OrderStatus.ON_HOLD:
        return True
    return order.status in AT_LAB and order.messages.filter(direction=MessageDirection.FROM_LAB).exists()


def answer_channel(order, question):
    if question is not None and question.channel == MessageChannel.MANUAL:
        return MessageChannel.MANUAL
    if question is not None and question.channel == MessageChannel.EMAIL:
        return MessageChannel.EMAIL if order.supplier.order_email else MessageChannel.MANUAL
    try:
        if registry.get_backend_class(order.backend).supports_lab_messages:
            return MessageChannel.INTERFACE
    except ConfigurationError:
        pass
    return MessageChannel.EMAIL if order.supplier.order_email else MessageChannel.MANUAL


def answer(order, *, user, text):
    """Staff's answer to the lab's question: an outbox row (interface or e-mail), or recorded
    as given by phone. Returns the message."""
    text = clean_text(text)
    with transaction.atomic():
        order = outbox.lock_order(order.pk)
        if order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED) or not can_answer(order):
            raise NoQuestion(_("Nachrichten an das Labor gehen nur zu einer Rückfrage des Labors."))
        question = open_question(order)
        channel = answer_channel(order, question)
        message = OrderMessage.objects.create(
            order=order,
            direction=MessageDirection.TO_LAB,
            channel=channel,
            text=text,
            author=user if user and user.is_authenticated else None,
            in_reply_to=question,
            state=DispatchState.DONE if channel == MessageChannel.MANUAL else DispatchState.QUEUED,
        )
        if channel == MessageChannel.MANUAL:
            _event(
                order,
                code="lab_answer_sent",
                params={"message": str(message.pk), "channel": channel, "variant": "manual"},
                source=EventSource.STAFF,
                actor=user,
            )
            _resume_after_manual_answer(order, user)
        else:
            order.save(update_fields=["updated_at"])
            transaction.on_commit(lambda: enqueue(message.pk))
    logger.info("order %s: answer to the lab by user %s via %s", order.pk, getattr(user, "pk", None), channel)
    return message


def _resume_after_manual_answer(order, user):
    """A question by phone answered by phone: the lab goes on where it stood."""
    if order.status != OrderStatus.ON_HOLD:
        return
    held = order.events.filter(to_status=OrderStatus.ON_HOLD).order_by("-created_at", "-id").first()
    before = held.from_status if held else OrderStatus.CONFIRMED
    # The lab asked, so it has the order: "bestellt" resumes as "bestätigt".
    target = OrderStatus.CONFIRMED if before in ("", OrderStatus.ORDERED) else before
    if target in TRANSITIONS[OrderStatus.ON_HOLD]:
        _event(
            order,
            code="lab_resumed",
            params={"after": "manual_answer", "variant": "manual_answer", "status": target},
            source=EventSource.STAFF,
            actor=user,
            to_status=target,
        )


def mark_read(order, user=None):
    """Opening the order page marks the lab's messages read."""
    return order.messages.filter(direction=MessageDirection.FROM_LAB, read_at__isnull=True).update(read_at=timezone.now())


def thread(order):
    return order.messages.select_related("author", "in_reply_to").order_by("created_at")


# --- the worker ---------------------------------------------------------------------------


def document(message, order):
    question = message.in_reply_to
    author = message.author.get_full_name() or message.author.get_username() if message.author else ""
    return MessageDocument(
        order=build_document(order),
        message_id=str(message.pk),
        text=message.text,
        author=author,
        sent_at=message.created_at,
        lab_reference=order.external_reference,
        in_reply_to=question.lab_message_id if question else "",
        question=question.text if question else "",
    )


def email(doc):
    """The answer as an e-mail to the lab's order address (German, as the lab reads it)."""
    with translation.override("de"):
        subject = _("Rückfrage zu Bestellung %(number)s – Antwort") % {"number": doc.order.order_number}
        if doc.lab_reference:
            subject += " " + _("(Ihre Nr. %(reference)s)") % {"reference": doc.lab_reference}
        quoted = "\n".join(f"> {line}" for line in doc.question.splitlines()) if doc.question else ""
        lines = [
            _("Guten Tag,"),
            "",
            _("zu Ihrer Rückfrage zur Bestellung %(number)s:") % {"number": doc.order.order_number},
            "",
        ]
        if quoted:
            lines += [quoted, ""]
        lines += [_("Unsere Antwort:"), "", doc.text, "", _("Mit freundlichen Grüßen"), doc.author, doc.order.branch.name]
        if doc.order.branch.phone:
            lines.append(_("Telefon: %(phone)s") % {"phone": doc.order.branch.phone})
    reply_to = [doc.order.branch.email] if doc.order.branch.email else None
    return EmailMessage(
        subject=subject,
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[doc.order.supplier.email],
        reply_to=reply_to,
        headers={"Message-ID": f"<{doc.message_id}@otoorder>", "X-Otoorder-Message-Id": doc.message_id},
    )


def send_email(doc):
    message = email(doc)
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - SMTP and socket errors: retried
        raise TransientError(
            code="lab_email_failed",
            params={"kind": type(exc).__name__},
            detail=str(exc)[:500],
        ) from exc
    return MessageResult(
        message=_("Antwort per E-Mail an das Labor gesendet."),
        request_summary={"to": doc.order.supplier.email, "message_id": doc.message_id, "channel": "email"},
    )


class MessageOutbox(outbox.Outbox):
    model = OrderMessage
    task = MESSAGE_TASK
    purpose = AttemptPurpose.MESSAGE
    noun = "message"

    def deliver(self, row, order, backend):
        doc = document(row, order)
        if row.channel == MessageChannel.INTERFACE and backend.supports_lab_messages:
            return backend.send_message(doc)
        return send_email(doc)

    def succeeded(self, row, token, order, result, started_at, duration_ms):
        with transaction.atomic():
            order = outbox.lock_order(order.pk)
            outbox.record_attempt(
                self, row, order, started_at, duration_ms, AttemptOutcome.DELIVERED,
                summary={"idempotency_key": row.idempotency_key, **result.request_summary},
                response=result.raw_response,
            )
            fields = {"lab_message_id": result.external_reference[:100]} if result.external_reference else {}
            outbox.release(self, row, token, state=DispatchState.DONE, last_error="", **fields)
            _event(
                order,
                code="lab_answer_sent",
                params={"message": str(row.pk), "channel": row.channel},
                source=EventSource.WORKER,
                data={"backend_message": result.message},
            )
        return "delivered"

    def retrying(self, row, order, error, countdown):
        order.save(update_fields=["updated_at"])
        transaction.on_commit(lambda: enqueue(row.pk, countdown=countdown))
        return "retry"

    def given_up(self, row, order, error, reason):
        OrderMessage.objects.filter(pk=row.pk).update(last_error=error.message)
        _event(order, code="lab_answer_failed", params={**reason, "message": str(row.pk)}, source=EventSource.WORKER)
        return "failed"


MESSAGES = MessageOutbox()


def enqueue(message_id, countdown=None):
    return outbox.enqueue(MESSAGES, message_id, countdown=countdown)


def run(message_id):
    return outbox.run(MESSAGES, message_id)


def sweep(now=None):
    return outbox.sweep(MESSAGES, now)
