"""The sandbox labs' order book: what each lab of the sandbox knows about the orders it took.

One timeline for every lab: *received* when taken, *in_production* one step later, *shipped*
two steps later (``timing.step_seconds``). An order whose notes to the lab begin with
``Rückfrage:`` is put *on hold* with a question (the text after the prefix, or a question of
the sandbox's own) until an answer arrives; then it is back *in production* at once and
shipped a step later. The impressions that came by post are received when production starts.
A cancellation is accepted while the order is not yet in production
(received or on hold) and refused afterwards with "bereits in Fertigung".

Complaints: a remake that carries a reason code is decided at once (``decision_of``): a free
remake when the order says our proposal was inside the free-remake window, else a remake
charged ``CHARGED_AMOUNT`` EUR; the lab reports the decision with its status.

Bounded like the rest of the sandbox: at most ``MAX_ORDERS`` orders, texts cut short.
"""

import hashlib
import threading
from dataclasses import dataclass

QUESTION_PREFIX = "Rückfrage:"
DEFAULT_QUESTION = (
    "Der Abdruck bildet den Gehörgang nicht vollständig ab. Sollen wir mit kürzerem Gehörgangsteil "
    "fertigen, oder schicken Sie einen neuen Abdruck?"
)
REFUSAL = "bereits in Fertigung"
STAGES = ("received", "in_production", "shipped")
MAX_ORDERS = 10_000
MAX_TEXT = 2000
CHARGED_AMOUNT = "45.00"
FREE_WORDS = "Reklamation anerkannt: Nachfertigung innerhalb der Gewährleistung, kostenlos."
CHARGED_WORDS = "Außerhalb der Frist für kostenlose Nachfertigung: Nachfertigung kostenpflichtig, 45,00 EUR."


def decision_of(reason_code, complaint):
    """The sandbox lab's decision on a remake (``{"outcome", "amount", "message"}``) or None.

    ``reason_code``: the order's complaint reason (no code, no complaint to decide);
    ``complaint``: the order's complaint object, whose ``free_remake`` says whether our
    proposal was inside the free-remake window.
    """
    if not isinstance(reason_code, str) or not reason_code.strip():
        return None
    free = isinstance(complaint, dict) and complaint.get("free_remake") is True
    if free:
        return {"outcome": "free_remake", "amount": "0.00", "message": FREE_WORDS}
    return {"outcome": "charged_remake", "amount": CHARGED_AMOUNT, "message": CHARGED_WORDS}


def question_of(notes):
    """The question the sandbox asks for an order with these notes to the lab, or ""."""
    text = (notes or "").strip()
    if not text.startswith(QUESTION_PREFIX):
        return ""
    return text[len(QUESTION_PREFIX):].strip()[:MAX_TEXT] or DEFAULT_QUESTION


@dataclass
class LabOrder:
    key: str
    ref: str
    taken_at: float
    question: str = ""
    question_id: str = ""
    answered_at: float | None = None
    answer: str = ""
    cancelled: bool = False
    #: The ears whose impression comes by post: received when production starts.
    impression_sides: tuple = ()
    #: The lab's decision on the complaint behind a remake (``decision_of``), else None.
    decision: dict | None = None

    def status(self, now, step):
        """The lab's status word at ``now`` (``step``: seconds from one status to the next)."""
        if self.cancelled:
            return "cancelled"
        if self.question and self.answered_at is None:
            return "on_hold"
        base, since = (1, now - self.answered_at) if self.answered_at is not None else (0, now - self.taken_at)
        steps = len(STAGES) if step <= 0 else int(max(since, 0) // step)
        return STAGES[min(base + steps, len(STAGES) - 1)]

    def in_production(self, now, step):
        return self.status(now, step) in ("in_production", "shipped")

    def impressions_received(self, now, step):
        """The ears whose physical impression the lab has at ``now`` (all of them once in production)."""
        return list(self.impression_sides) if self.in_production(now, step) else []


class LabBook:
    def __init__(self):
        self._orders = {}  # (lab, key) → LabOrder
        self._refs = {}  # (lab, ref) → key
        self._lock = threading.Lock()

    def take(self, lab, key, ref, notes, now, impression_sides=(), decision=None):
        """Record the order ``key`` (the lab's number ``ref``); a known key keeps its record."""
        with self._lock:
            found = self._orders.get((lab, key))
            if found is not None or len(self._orders) >= MAX_ORDERS:
                return found
            question = question_of(notes)
            order = LabOrder(
                key=key,
                ref=ref,
                taken_at=now,
                question=question,
                question_id=f"Q-{hashlib.sha256(key.encode()).hexdigest()[:8].upper()}" if question else "",
                impression_sides=tuple(impression_sides),
                decision=decision,
            )
            self._orders[(lab, key)] = order
            self._refs[(lab, ref)] = key
            return order

    def find(self, lab, ref_or_key):
        """The order known under the lab's number or our key (UUID), or None."""
        with self._lock:
            key = self._refs.get((lab, ref_or_key), ref_or_key)
            return self._orders.get((lab, key))

    def cancel(self, order, now, step):
        """``(accepted, reason)``: accepted while not in production (and again once cancelled)."""
        with self._lock:
            if order.cancelled:
                return True, ""
            if order.in_production(now, step):
                return False, REFUSAL
            order.cancelled = True
            return True, ""

    def answer(self, order, text, now):
        """Staff's answer arrived: a question on hold is resumed. Returns whether it was one."""
        with self._lock:
            if not order.question or order.answered_at is not None or order.cancelled:
                return False
            order.answered_at = now
            order.answer = str(text or "")[:MAX_TEXT]
            return True
