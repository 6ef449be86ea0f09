"""The closed vocabulary of what a send can come back with."""

from dataclasses import dataclass, field
from enum import Enum


class ResultStatus(str, Enum):
    #: The lab took the order; its own order number may follow later.
    ORDERED = "ordered"
    #: The lab took the order and answered with its order number.
    CONFIRMED = "confirmed"
    #: Browser hand-off started; the portal's callback completes the order.
    AWAITING_PORTAL = "awaiting_portal"
    #: The order form is ready; staff print, fax or phone it and confirm.
    AWAITING_MANUAL = "awaiting_manual"
    #: The lab answered and refused the order.
    REJECTED = "rejected"


@dataclass(frozen=True)
class DispatchResult:
    status: ResultStatus
    external_reference: str = ""
    external_status: str = ""
    #: German, for the log; the order's event renders from ``status`` (and ``lab_text``).
    message: str = ""
    #: The lab's own words with its answer (e.g. why it refused), kept as written.
    lab_text: str = ""
    #: What was sent, without personal data (sizes, ids, addresses of the lab).
    request_summary: dict = field(default_factory=dict)
    #: The lab's answer as received, kept in the attempt log.
    raw_response: str = ""
    #: Backend-specific values to store on the order (e.g. a portal hand-off URL).
    data: dict = field(default_factory=dict)


class CancelStatus(str, Enum):
    #: The lab cancelled the order (answered at once).
    ACCEPTED = "accepted"
    #: The lab refused: the order goes back to where it was, with the lab's reason.
    REFUSED = "refused"
    #: The lab has the request; its answer comes later (callback, status poll, inbox file).
    PENDING = "pending"
    #: This interface (as configured) cannot carry a cancellation: staff report it to the lab.
    MANUAL = "manual"


@dataclass(frozen=True)
class CancelResult:
    status: CancelStatus
    #: The lab's own words (its reason for a refusal), kept as written.
    lab_message: str = ""
    #: German, for the order's event log.
    message: str = ""
    request_summary: dict = field(default_factory=dict)
    raw_response: str = ""


@dataclass(frozen=True)
class MessageResult:
    """A message (staff's answer to a lab question) the lab has received."""

    #: The lab's id of the message, where it answers with one.
    external_reference: str = ""
    message: str = ""
    request_summary: dict = field(default_factory=dict)
    raw_response: str = ""
