"""Existing events and attempts get a code and params from their German text.

Events were stored as German sentences (``OrderEvent.message``); since the codes every event
carries ``data["code"]`` and ``data["params"]`` and is rendered in the reader's language. This
migration recognises the sentences the code wrote (today's and older wordings) and writes the
code and params; an event whose code was there already gets the params its sentence needs
(variant, the lab's words, staff's reason). An event it does not recognise (e.g. a backend's
own summary of a lab's report) keeps its text, shown as it is. Attempt errors likewise get the
code of the backend error whose sentence they are (``backends.exceptions.ERRORS``).
"""

import re
from datetime import datetime

from django.db import migrations
from django.utils import timezone, translation

from otoorder.backends.exceptions import ERRORS
from otoorder.backends.registry import BACKENDS
from otoorder.orders.choices import OrderStatus

with translation.override("de"):
    STATUS_LABELS = {str(label): value for value, label in OrderStatus.choices}
    BACKEND_LABELS = {str(label): key for key, (_path, label) in BACKENDS.items()}
METHOD_LABELS = {"Druck": "print", "Fax": "fax", "E-Mail (PDF)": "email", "Telefon": "phone", "Schnittstelle": "interface"}
SENT = {
    "ordered": "ordered", "confirmed": "confirmed", "awaiting_portal": "awaiting_portal",
    "awaiting_manual": "awaiting_manual", "rejected_by_lab": "rejected",
}


def _pattern(template):
    """A German sentence with ``%(name)s`` placeholders as a regex with named groups."""
    parts = re.split(r"%\((\w+)\)s", template)
    regex = ""
    for index, part in enumerate(parts):
        regex += re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
    return re.compile(f"^{regex}$", re.S)


def _error_patterns():
    with translation.override("de"):
        patterns = [(code, _pattern(str(text))) for code, text in ERRORS.items()]
    # The longest (most specific) sentence first.
    return sorted(patterns, key=lambda item: -len(item[1].pattern))


ERROR_PATTERNS = _error_patterns()


def error_for(text):
    """``{"code", "params", "text"}`` of a stored error text (``code`` "" when unknown)."""
    text = (text or "").strip()
    for code, pattern in ERROR_PATTERNS:
        match = pattern.match(text)
        if match:
            return {"code": code, "params": match.groupdict(), "text": text}
    return {"code": "", "params": {}, "text": text}


def _match(regex, text):
    return re.match(regex, text, re.S)


def _local_iso(value):
    moment = datetime.strptime(value, "%d.%m.%Y %H:%M")
    return timezone.make_aware(moment, timezone.get_default_timezone()).isoformat()


def _retry(message):
    match = _match(r"^Versuch (?P<n>\d+) fehlgeschlagen \((?P<error>.*)\); neuer Versuch in (?P<s>\d+) s\.$", message)
    variant = ""
    if not match:
        match = _match(
            r"^Versuch (?P<n>\d+) ohne Antwort des Labors \((?P<error>.*)\): möglicherweise bereits zugestellt; "
            r"neuer Versuch unter demselben Schlüssel in (?P<s>\d+) s\.$",
            message,
        )
        variant = "ambiguous"
    if not match:
        return None
    params = {"n": int(match["n"]), "s": int(match["s"]), "error": error_for(match["error"])}
    if variant:
        params["variant"] = variant
    return params


UNITS = {"Jahr": 365 * 86400, "Monat": 30 * 86400, "Woche": 7 * 86400, "Tag": 86400, "Stunde": 3600, "Minute": 60}


def _seconds(duration):
    """Django's German ``timesince`` ("1 Tag, 2 Stunden") in seconds; None when unknown."""
    total = 0
    for part in duration.replace("\xa0", " ").split(", "):
        match = re.match(r"^(\d+) (Jahr|Monat|Woche|Tag|Stunde|Minute)\w*$", part.strip())
        if match is None:
            return None
        total += int(match[1]) * UNITS[match[2]]
    return total


def _failure(message):
    match = _match(r"^(?P<error>.*) – nach (?P<n>\d+) Versuchen in (?P<duration>.+) aufgegeben\.$", message)
    if match and _seconds(match["duration"]) is not None:
        return {
            "variant": "gave_up", "error": error_for(match["error"]), "n": int(match["n"]),
            "duration": _seconds(match["duration"]),
        }
    return {"error": error_for(message)}


def coded(code, params, message, data):
    """Params for an event that had its code already (cancellations, lab messages)."""
    params = dict(params)
    if code == "cancel_accepted":
        if params.get("immediate"):
            params["variant"] = "immediate"
            if message and message != "Storniert (noch nicht beim Labor).":
                params["reason"] = message
        elif params.get("by_lab"):
            params["variant"] = "by_lab"
    elif code == "cancel_requested":
        if params.get("parked"):
            params["variant"] = "parked"
        elif message.startswith("Stornierung: "):
            retry = _retry(message[len("Stornierung: "):])
            if retry is None:
                return None
            params.update(retry, variant="retry_ambiguous" if retry.get("variant") else "retry")
        else:
            match = _match(r"^Stornierung beim Labor angefragt\.(?: (?P<reason>.*))?$", message)
            if match is None:
                return None
            if match["reason"]:
                params["reason"] = match["reason"]
    elif code == "cancel_to_report":
        gave_up = _match(r"^Die Stornierung konnte nicht übermittelt werden \((?P<error>.*)\): bitte beim Labor melden\.$", message)
        manual = _match(
            r"^Die Schnittstelle übermittelt keine Stornierung: bitte (?:die Stornierung )?beim Labor melden "
            r"und hier erfassen\.(?: (?P<reason>.*))?$",
            message,
        )
        if gave_up:
            params.update(_failure(gave_up["error"]), variant="gave_up")
        elif manual and manual["reason"]:
            params["reason"] = manual["reason"]
    elif code == "cancel_reported":
        if params.get("channel") == "manual":
            match = _match(r"^Stornierung beim Labor gemeldet: an (?P<to>.*) am (?P<at>\d\d\.\d\d\.\d{4} \d\d:\d\d)\.$", message)
            if match is None:
                return None
            params.update(to=match["to"], at=_local_iso(match["at"]))
        else:
            params["variant"] = "interface"
    elif code == "lab_question":
        match = _match(r"^Rückfrage des Labors: „(?P<text>.*)“$", message)
        if match is None:
            return None
        if match["text"] in ("", "(Rückfrage ohne Text)"):
            params["variant"] = "empty"
        else:
            params["text"] = match["text"]
    elif code == "lab_answer_sent":
        if params.get("channel") == "manual":
            params["variant"] = "manual"
    elif code == "lab_resumed":
        if params.get("after") == "manual_answer":
            params["variant"] = "manual_answer"
    return params


def recognise(event):
    """``(code, params)`` for an event without a code, or None when its text is unknown."""
    message, data = (event.message or "").strip(), event.data if isinstance(event.data, dict) else {}
    to, came_from, source = event.to_status, event.from_status, event.source
    simple = {
        "Erneut senden angefordert.": "resend_requested",
        "Der Versand wurde unterbrochen (Worker nicht mehr erreichbar); wird erneut gesendet.": "send_interrupted",
        "Verspätete Antwort eines Versandvorgangs.": "late_answer",
        "Demodaten: Bestellung beim Labor.": "demo_data",
    }
    if message in simple:
        return simple[message], {}
    if match := _match(r"^Bestellung erstellt: über (?P<backend>.+) an (?P<supplier>.+)\.$", message):
        return "order_placed", {
            "backend": BACKEND_LABELS.get(match["backend"], match["backend"]), "supplier": match["supplier"],
        }
    if match := _match(r"^Bestellung per (?P<method>.+) an das Labor übermittelt \(bestätigt durch Mitarbeiter\)\.$", message):
        return "manual_order_confirmed", {"method": METHOD_LABELS.get(match["method"], match["method"])}
    if message.startswith("Wareneingang gebucht."):
        serials = data.get("serials") if isinstance(data.get("serials"), dict) else {}
        return "goods_received", {"variant": "serials", "serials": serials} if serials else {}
    if _match(r"^Angepasst am \d\d\.\d\d\.\d{4}, Gewährleistung bis \d\d\.\d\d\.\d{4}\.$", message) and data.get("fitted_on"):
        return "fitted", {"date": data["fitted_on"], "until": data.get("warranty_until", "")}
    if match := _match(r"^Abgeschlossen\.(?: (?P<reason>.*))?$", message):
        return "closed", {"reason": match["reason"]} if match["reason"] else {}
    if match := _match(r"^Anhang hinzugefügt \((?P<type>[^,]+), (?P<size>.+)\)\.$", message):
        return "attachment_added", match.groupdict()
    if match := _match(r"^Die Antwort an das Labor konnte nicht zugestellt werden \((?P<error>.*)\): bitte das Labor anrufen\.$", message):
        params = data.get("params") if isinstance(data.get("params"), dict) else {}
        return "lab_answer_failed", {**params, **_failure(match["error"])}
    retry = _retry(message)
    if retry is not None:
        return "send_retry", retry
    if to == "failed" and came_from in ("sending", "queued") and source == "worker" and message:
        return "send_failed", _failure(message)
    if source == "worker" and came_from == "sending" and to in SENT:
        # The lab's answer: the sentence of its status (the backend's summary is kept aside).
        params = {"variant": SENT[to]}
        if data.get("external_reference"):
            params["reference"] = data["external_reference"]
        if rejected := _match(r"^Das Labor hat die Bestellung abgelehnt: (?P<text>.*)$", message):
            params["lab_text"] = rejected["text"]
        if email := _match(r"^Bestellung per E-Mail an (?P<to>.+?) gesendet\.", message):
            params.update(variant="email", to=email["to"])
        return "sent", params
    if match := _match(r"^Statusmeldung des Labors: (?P<status>.*?)(?: \(Der Status bleibt „(?P<kept>.+)“\.\))?$", message):
        params = {"external_status": match["status"]}
        if match["kept"]:
            params["kept_status"] = STATUS_LABELS.get(match["kept"], match["kept"])
        return "lab_status", params
    if not message and to:
        if to == "sending" and came_from == "queued":
            return "sending", {}
        return "status_changed", {"status": to}
    return None


def forwards(apps, schema_editor):
    OrderEvent = apps.get_model("orders", "OrderEvent")
    Attempt = apps.get_model("orders", "Attempt")
    for event in OrderEvent.objects.iterator(chunk_size=500):
        data = event.data if isinstance(event.data, dict) else {}
        if data.get("code"):
            params = coded(data["code"], data.get("params") or {}, (event.message or "").strip(), data)
            if params is None or params == data.get("params"):
                continue
            OrderEvent.objects.filter(pk=event.pk).update(data={**data, "params": params})
            continue
        found = recognise(event)
        if found is None:
            continue
        code, params = found
        OrderEvent.objects.filter(pk=event.pk).update(data={**data, "code": code, "params": params})
    EarmouldOrder = apps.get_model("orders", "EarmouldOrder")
    for order in EarmouldOrder.objects.exclude(failure_reason="").filter(failure_params={}).iterator(chunk_size=500):
        EarmouldOrder.objects.filter(pk=order.pk).update(failure_params=_failure(order.failure_reason.strip()))
    for attempt in Attempt.objects.filter(error_code="").exclude(error="").iterator(chunk_size=500):
        error = error_for(attempt.error)
        if error["code"]:
            Attempt.objects.filter(pk=attempt.pk).update(error_code=error["code"], error_params=error["params"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0012_error_codes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
