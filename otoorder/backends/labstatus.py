"""Lab statuses, normalised: one table per backend maps the lab's words to our order status.

A backend declares ``STATUS_TABLE = StatusTable({"received": "confirmed", ...})``; the values
are ``OrderStatus`` values (plain strings, because this package imports no models). Both the
answer to a send and a status poll go through the same table, so there is exactly one place
per lab that says what its statuses mean.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .result import ResultStatus

#: The order statuses a lab may move an order to (see ``otoorder.orders.choices``).
#: ``on_hold``: the lab asks a question (Rückfrage); ``cancelled``: the lab cancelled the order
#: (it accepted our cancellation, or cancelled on its own).
LAB_REACHABLE = frozenset(
    {"ordered", "confirmed", "in_production", "shipped", "rejected_by_lab", "on_hold", "cancelled"}
)

#: ``StatusUpdate.cancellation``: the lab's answer to a cancellation request.
CANCELLATION_ACCEPTED = "accepted"
CANCELLATION_REFUSED = "refused"

#: What a lab may decide on the complaint behind a remake (``ComplaintOutcome`` values).
COMPLAINT_OUTCOMES = frozenset({"free_remake", "charged_remake", "credit", "repair", "rejected"})
#: Bounds of what is kept of a lab's decision: its amount (EUR) and its words.
MAX_DECISION_AMOUNT = Decimal("999999.99")
DECISION_TEXT_CHARS = 2000


class StatusTable:
    def __init__(self, mapping):
        unknown = set(mapping.values()) - LAB_REACHABLE
        if unknown:
            raise ValueError(f"not an order status a lab can set: {sorted(unknown)}")
        self.mapping = {str(key).strip().lower(): value for key, value in mapping.items()}

    def __iter__(self):
        return iter(self.mapping.items())

    def normalise(self, lab_status):
        """Our order status for the lab's status, or ``None`` when the lab's word is unknown."""
        if not lab_status:
            return None
        return self.mapping.get(str(lab_status).strip().lower())

    def result_status(self, lab_status, *, has_reference):
        """The ``ResultStatus`` of a send answer carrying ``lab_status`` (possibly empty)."""
        if self.normalise(lab_status) == "rejected_by_lab":
            return ResultStatus.REJECTED
        return ResultStatus.CONFIRMED if has_reference else ResultStatus.ORDERED


@dataclass(frozen=True)
class StatusUpdate:
    """What a status poll (or a lab push) reports about one order."""

    #: Our order status (an ``OrderStatus`` value), or ``None`` for a lab status we do not know.
    status: str | None
    #: The lab's own status word, as received.
    external_status: str = ""
    external_reference: str = ""
    tracking_number: str = ""
    #: German, for the order's event log.
    message: str = ""
    raw_response: str = ""
    data: dict = field(default_factory=dict)
    #: The lab's answer to our cancellation request: ``CANCELLATION_ACCEPTED`` (the order
    #: becomes cancelled), ``CANCELLATION_REFUSED`` (it goes back to where it was), or "".
    cancellation: str = ""
    #: The lab's own words, kept as written: its question (``on_hold``) or the reason it
    #: refused a cancellation.
    lab_text: str = ""
    #: The lab's id of its question, sent back with our answer where the format has one.
    lab_message_id: str = ""
    #: The ears (``"right"``/``"left"``) whose physical impression the lab reports received.
    impressions_received: tuple = ()
    #: The lab's decision on the complaint behind a remake (``ComplaintDecision``), if it sent one.
    complaint_decision: "ComplaintDecision | None" = None


@dataclass(frozen=True)
class ComplaintDecision:
    """A lab's decision on the complaint behind a remake order, reported with its status."""

    #: One of ``COMPLAINT_OUTCOMES``.
    outcome: str
    #: What the lab charges, in EUR as a decimal string with two places ("45.00"); "" for none.
    amount: str = ""
    #: The lab's own words, kept as written.
    lab_text: str = ""

    @classmethod
    def read(cls, outcome, amount=None, lab_text=None):
        """The decision from a lab's answer, or None when its outcome is not one we know.

        An amount that is not a number from 0 to ``MAX_DECISION_AMOUNT`` is left out (the
        outcome still counts); the words are cut to ``DECISION_TEXT_CHARS``.
        """
        outcome = str(outcome or "").strip().lower() if isinstance(outcome, str) else ""
        if outcome not in COMPLAINT_OUTCOMES:
            return None
        return cls(outcome=outcome, amount=_amount(amount), lab_text=_words(lab_text))

    def fingerprint(self):
        return "\x1e".join((self.outcome, self.amount, self.lab_text))


def _amount(value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    try:
        number = Decimal(str(value).strip().replace(",", ".")[:20])
    except InvalidOperation:
        return ""
    if not number.is_finite() or number < 0 or number > MAX_DECISION_AMOUNT:
        return ""
    return str(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _words(value):
    if not isinstance(value, str):
        return ""
    return value.strip()[:DECISION_TEXT_CHARS]
