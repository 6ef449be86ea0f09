"""The sentences of order events: each event stores a ``code`` and its ``params`` and is
rendered in the reader's language (the request's for pages and the API, the user's for
e-mail). Only a lab's own words (``params["text"]`` and the like) stay as the lab wrote them.

Each part of the house that records events keeps its codes in its own block below.

``render(code, params)`` is the one renderer. Params hold raw values (status keys, ISO dates,
a side's key, an error's code and params); ``FORMATS`` turns them into words of the active
language. ``params["variant"]`` picks the sentence ``"<code>.<variant>"`` where there is one
(e.g. ``cancel_accepted.immediate``). A few params add a sentence of their own after the
code's (``SUFFIXES``): staff's ``reason``, the lab's ``lab_text``, ``kept_status``,
``attachments_not_sent``. An event without a code (older than the codes and not recognised
by the migration) shows its stored ``message`` as it is.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from otoorder.backends import registry
from otoorder.backends.exceptions import render_error
from otoorder.vocabulary import Side
from suppliers.models import OrderMethod

from .choices import ComplaintOutcome, CostBearer, OrderStatus

#: code -> sentence with ``%(name)s`` placeholders filled from the event's params.
TEXTS = {
    # --- lifecycle, dispatch, lab updates, cancellation, lab messages ---
    "status_changed": _("Status geändert: %(status)s."),
    "order_placed": _("Bestellung erstellt: über %(backend)s an %(supplier)s."),
    "resend_requested": _("Erneut senden angefordert."),
    "manual_order_confirmed": _(
        "Bestellung per %(method)s an das Labor übermittelt (bestätigt durch Mitarbeiter)."
    ),
    "goods_received": _("Wareneingang gebucht."),
    "goods_received.serials": _("Wareneingang gebucht. Seriennummern: %(serials)s"),
    "fitted": _("Angepasst am %(date)s, Gewährleistung bis %(until)s."),
    "closed": _("Abgeschlossen."),
    "attachment_added": _("Anhang hinzugefügt (%(type)s, %(size)s)."),
    "sending": _("Wird an das Labor gesendet."),
    "send_retry": _("Versuch %(n)s fehlgeschlagen (%(error)s); neuer Versuch in %(s)s s."),
    "send_retry.ambiguous": _(
        "Versuch %(n)s ohne Antwort des Labors (%(error)s): möglicherweise bereits zugestellt; "
        "neuer Versuch unter demselben Schlüssel in %(s)s s."
    ),
    "send_failed": _("%(error)s"),
    "send_failed.gave_up": _("%(error)s – nach %(n)s Versuchen in %(duration)s aufgegeben."),
    "send_interrupted": _(
        "Der Versand wurde unterbrochen (Worker nicht mehr erreichbar); wird erneut gesendet."
    ),
    "late_answer": _("Verspätete Antwort eines Versandvorgangs."),
    "sent.ordered": _("An das Labor gesendet."),
    "sent.email": _("Bestellung per E-Mail an %(to)s gesendet."),
    "sent.confirmed": _("Vom Labor bestätigt."),
    "sent.awaiting_portal": _("Portal-Übergabe bereit: Bestellung im Portal abschließen."),
    "sent.awaiting_manual": _(
        "Bestellformular erstellt: bitte drucken/faxen/telefonisch bestellen und bestätigen."
    ),
    "sent.rejected": _("Vom Labor abgelehnt."),
    "sent": _("Antwort des Labors auf die Bestellung."),
    "lab_status": _("Statusmeldung des Labors: %(external_status)s"),
    "lab_resumed": _("Das Labor setzt die Bestellung fort."),
    "lab_resumed.manual_answer": _("Rückfrage beantwortet: das Labor setzt die Bestellung fort."),
    "lab_question": _("Rückfrage des Labors: „%(text)s“"),
    "lab_question.empty": _("Rückfrage des Labors (ohne Text)."),
    "lab_answer_sent": _("Antwort an das Labor übermittelt."),
    "lab_answer_sent.manual": _("Antwort an das Labor erfasst (telefonisch/persönlich gegeben)."),
    "lab_answer_failed": _(
        "Die Antwort an das Labor konnte nicht zugestellt werden (%(error)s): bitte das Labor anrufen."
    ),
    "cancel_requested": _("Stornierung beim Labor angefragt."),
    "cancel_requested.parked": _(
        "Stornierung vorgemerkt: die Bestellung wird gerade gesendet. Erreicht sie das Labor nicht, "
        "wird sie sofort storniert, sonst wird die Stornierung beim Labor angefragt."
    ),
    "cancel_requested.retry": _(
        "Stornierung: Versuch %(n)s fehlgeschlagen (%(error)s); neuer Versuch in %(s)s s."
    ),
    "cancel_requested.retry_ambiguous": _(
        "Stornierung: Versuch %(n)s ohne Antwort des Labors (%(error)s): möglicherweise bereits zugestellt; "
        "neuer Versuch unter demselben Schlüssel in %(s)s s."
    ),
    "cancel_accepted": _("Das Labor hat die Stornierung angenommen."),
    "cancel_accepted.immediate": _("Storniert (noch nicht beim Labor)."),
    "cancel_accepted.by_lab": _("Das Labor hat die Bestellung storniert."),
    "cancel_refused": _("Das Labor hat die Stornierung abgelehnt."),
    "cancel_to_report": _(
        "Die Schnittstelle übermittelt keine Stornierung: bitte die Stornierung beim Labor melden "
        "und hier erfassen."
    ),
    "cancel_to_report.gave_up": _(
        "Die Stornierung konnte nicht übermittelt werden (%(error)s): bitte beim Labor melden."
    ),
    "cancel_reported": _("Stornierung beim Labor gemeldet: an %(to)s am %(at)s."),
    "cancel_reported.interface": _("Stornierung an das Labor übermittelt; die Antwort des Labors folgt."),
    "demo_data": _("Demodaten: Bestellung beim Labor."),
    # --- parcels and impressions ---
    "impression_parcel_sent": _(
        "Abdruck unterwegs zu %(supplier)s im Sammelversand: %(carrier)s, Sendungsnummer %(tracking_number)s."
    ),
    "impression_received_right": _("Das Labor hat den Abdruck des rechten Ohrs erhalten."),
    "impression_received_left": _("Das Labor hat den Abdruck des linken Ohrs erhalten."),
    "parcel_closed_by_staff": _("Sammelversand %(tracking_number)s von Hand abgeschlossen."),
    "parcel_closed_received": _("Sammelversand %(tracking_number)s abgeschlossen: das Labor hat alle Abdrücke erhalten."),
    # --- goods receipt, steps and remakes ---
    "serial_corrected": _("Seriennummer %(side)s geändert: „%(old)s“ → „%(new)s“."),
    # --- complaints ---
    "complaint_raised": _("Reklamation erfasst (%(sides)s): %(reason)s."),
    "complaint_remake_ordered": _("Nachfertigung %(number)s zur Reklamation bestellt."),
    "complaint_reported": _("Reklamation an das Labor gemeldet."),
    "complaint_decided": _("Entscheidung des Labors zur Reklamation: %(outcome)s, Kosten trägt: %(cost_bearer)s."),
    "complaint_decided.amount": _(
        "Entscheidung des Labors zur Reklamation: %(outcome)s, Kosten trägt: %(cost_bearer)s, Betrag %(amount)s EUR."
    ),
    "complaint_closed": _("Reklamation erledigt."),
    "lab_complaint_decision": _("Entscheidung des Labors zur Reklamation dieser Nachfertigung: %(outcome)s."),
    "lab_complaint_decision.amount": _(
        "Entscheidung des Labors zur Reklamation dieser Nachfertigung: %(outcome)s, Betrag %(amount)s EUR."
    ),
}


def _status(value):
    return OrderStatus(value).label if value in OrderStatus.values else str(value or "–")


def _date(value):
    try:
        return date_format(date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
    except ValueError:
        return str(value)


def _datetime(value):
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "SHORT_DATETIME_FORMAT")


def _serials(value):
    if not isinstance(value, dict):
        return str(value)
    return ", ".join(f"{Side(side).label if side in Side.values else side} {number}" for side, number in value.items())


def _duration(value):
    now = timezone.now()
    try:
        return timesince(now - timedelta(seconds=int(value)), now)
    except (TypeError, ValueError):
        return str(value)


def _side(value):
    return Side(value).label if value in Side.values else str(value)


def _sides(value):
    return ", ".join(str(_side(side)) for side in str(value or "").split(",") if side) or "–"


def _choice(choices):
    return lambda value: choices(value).label if value in choices.values else str(value or "–")


def _or_dash(value):
    return value if value not in (None, "") else "–"


def _error(value):
    if isinstance(value, dict):
        return render_error(value.get("code", ""), value.get("params"), fallback=value.get("text", ""))
    return str(value)


def _method(value):
    return OrderMethod(value).label if value in OrderMethod.values else str(value)


def _backend(value):
    return str(registry.label(value))


def _size(value):
    try:
        return filesizeformat(int(value))
    except (TypeError, ValueError):
        return str(value)


def _amount(value):
    """An amount in EUR with two places in the reader's notation (15,00 / 15.00)."""
    try:
        return number_format(Decimal(str(value)), decimal_pos=2)
    except (InvalidOperation, ValueError):
        return str(value)


#: How a param is put into words (values stored raw, formatted in the reader's language).
FORMATS = {
    "status": _status,
    "back_to": _status,
    "kept_status": _status,
    "date": _date,
    "until": _date,
    "delivery_date": _date,
    "at": _datetime,
    "serials": _serials,
    "side": _side,
    "sides": _sides,
    "outcome": _choice(ComplaintOutcome),
    "cost_bearer": _choice(CostBearer),
    "old": _or_dash,
    "new": _or_dash,
    "duration": _duration,
    "error": _error,
    "method": _method,
    "backend": _backend,
    "size": _size,
    "amount": _amount,
}

#: Params that add a sentence after the code's own (in this order).
SUFFIXES = (
    ("reason", None),
    ("lab_text", _("„%(lab_text)s“")),
    ("reference", _("Auftragsnummer des Labors: %(reference)s.")),
    ("tracking", _("Sendungsnummer: %(tracking)s.")),
    ("delivery_date", _("Liefertermin: %(delivery_date)s.")),
    ("kept_status", _("(Der Status bleibt „%(kept_status)s“.)")),
    (
        "attachments_not_sent",
        _("Anhänge übermittelt die Schnittstelle nicht: %(attachments_not_sent)s – bitte dem Labor gesondert senden."),
    ),
    (
        "scans_separate",
        _("Bitte die Scan-Datei(en) %(scans_separate)s separat an das Labor senden (nicht in dieser Sendung)."),
    ),
)

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class _Params(dict):
    """Params as words; a placeholder without a value reads "–" (never a KeyError on a page)."""

    def __missing__(self, key):
        return "–"


def sentence_key(code, params):
    variant = params.get("variant")
    if variant and f"{code}.{variant}" in TEXTS:
        return f"{code}.{variant}"
    return code


def words(params):
    return _Params({key: FORMATS[key](value) if key in FORMATS else value for key, value in params.items()})


def render(code, params=None, *, fallback=""):
    """The event's sentence in the active language; ``fallback`` for an unknown code."""
    params = params if isinstance(params, dict) else {}
    key = sentence_key(code, params)
    if key not in TEXTS:
        return fallback
    values = words(params)
    parts = [str(TEXTS[key]) % values]
    for name, template in SUFFIXES:
        value = params.get(name)
        if value in (None, "", [], {}) or f"%({name})s" in str(TEXTS[key]):
            continue
        parts.append(str(value) if template is None else str(template) % values)
    return " ".join(part for part in parts if part)


def event_text(event):
    """What a reader sees of ``event``: its code's sentence, else its stored message."""
    data = event.data if isinstance(event.data, dict) else {}
    code = data.get("code")
    if not code:
        return event.message
    return render(code, data.get("params"), fallback=event.message)


def german(code, params=None):
    """The sentence in German: the ``message`` column during the migration period."""
    with translation.override("de"):
        return render(code, params)
