"""A notification in words: rendered from its kind and parameters in the active language.

Nothing rendered is stored; the caller chooses the language (the request's for the bell, the
list and the API; the user's preference for the e-mail digest, ``translation.override``).
The lab's own words are quoted as the lab wrote them.
"""

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from otoorder.orders.tracking import tracking_url

from .choices import Kind

#: At most this much of a lab's words is kept in a notification.
LAB_TEXT_MAX = 1000


def _date(value):
    try:
        return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
    except (TypeError, ValueError):
        return ""


def message(notification, *, lab_words=True):
    """The notification's sentence. ``lab_words=False`` leaves out the lab's free text (the
    e-mail digest: free text might name more than staff need outside otoorder)."""
    params = notification.params if isinstance(notification.params, dict) else {}
    values = {"number": notification.order.number, "lab": params.get("lab") or "–"}
    text = str(params.get("text") or "")[:LAB_TEXT_MAX] if lab_words else ""
    kind = notification.kind
    if kind == Kind.CONFIRMED:
        return _("Bestellung %(number)s wurde vom Labor %(lab)s bestätigt.") % values
    if kind == Kind.SHIPPED:
        sentence = _("Bestellung %(number)s wurde von %(lab)s versandt.") % values
        if params.get("tracking"):
            sentence += " " + _("Sendungsnummer: %(tracking)s") % {"tracking": params["tracking"]}
        return sentence
    if kind == Kind.REJECTED:
        sentence = _("Bestellung %(number)s wurde vom Labor %(lab)s abgelehnt.") % values
        return sentence + (" " + _("Begründung des Labors: „%(text)s“") % {"text": text} if text else "")
    if kind == Kind.LAB_QUESTION:
        if text:
            return _("Rückfrage des Labors %(lab)s zu Bestellung %(number)s: „%(text)s“") % {**values, "text": text}
        return _("Das Labor %(lab)s hat eine Rückfrage zu Bestellung %(number)s.") % values
    if kind == Kind.SEND_FAILED:
        return _("Bestellung %(number)s an %(lab)s konnte nicht gesendet werden.") % values
    if kind == Kind.CANCEL_ACCEPTED:
        return _("Das Labor %(lab)s hat die Stornierung von Bestellung %(number)s angenommen.") % values
    if kind == Kind.CANCEL_REFUSED:
        sentence = _("Das Labor %(lab)s hat die Stornierung von Bestellung %(number)s abgelehnt.") % values
        return sentence + (" " + _("Begründung des Labors: „%(text)s“") % {"text": text} if text else "")
    if kind == Kind.LAB_CANCELLED:
        sentence = _("Das Labor %(lab)s hat Bestellung %(number)s storniert.") % values
        return sentence + (" " + _("Begründung des Labors: „%(text)s“") % {"text": text} if text else "")
    if kind == Kind.OVERDUE:
        due = _date(params.get("due"))
        if due:
            return _("Bestellung %(number)s bei %(lab)s ist überfällig (fällig seit %(due)s).") % {**values, "due": due}
        return _("Bestellung %(number)s bei %(lab)s ist überfällig.") % values
    return _("Neuigkeit zu Bestellung %(number)s.") % values


def tracking_link(notification):
    """The carrier's tracking page of a shipped notification ("" without carrier or number)."""
    params = notification.params if isinstance(notification.params, dict) else {}
    if notification.kind != Kind.SHIPPED:
        return ""
    return tracking_url(params.get("carrier"), params.get("tracking"))
