"""Demo history for the lab scorecards and the complaints (``load_demo_data``).

Delivered orders of the last five months across the demo labs (ordered, shipped and received,
some after the date required), a few rejected by the lab, sends that failed before they went
through, cancellations the lab refused; and complaints in every state (offen, an Labor gemeldet,
Entscheidung des Labors with each outcome, erledigt) with their remake orders linked both ways,
cost bearers and amounts, plus two remakes ordered by hand without a complaint (no reason
category). One decision charges a remake inside the free-remake window, so the flag for lab
charges within the window has a case.

Written in bulk (a few dozen queries for some hundred rows; the events, append-only, one
insert each) and once: ``load`` does nothing
when a history order exists. Dates count back from the first load and stay as they are.
Orders are recorded as the standard process left them (no outbox rows: no worker touches them).
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from otoorder.backends.registry import STANDARD
from otoorder.complaints import window
from otoorder.complaints.choices import ComplaintStatus, CostBearer, Outcome
from otoorder.complaints.models import Complaint, ComplaintReason
from otoorder.orders import event_texts
from otoorder.orders.choices import (
    AttemptOutcome,
    CancellationOutcome,
    DispatchState,
    EventSource,
    OrderStatus,
    OrderType,
)
from otoorder.orders.models import Attempt, Cancellation, EarmouldOrder, OrderEvent, OrderItem
from otoorder.orders.schedule import compute_eta
from otoorder.transactions.models import Step, Transaction
from otoorder.vocabulary import Material, Side, Style, Tube

PREFIX = "DEMO-H-"
#: The same history on every machine.
SEED = 2026
#: Orders spread over the last five months, the newest three weeks old (all delivered).
OLDEST_DAYS, NEWEST_DAYS = 150, 21

#: lab → (branches, orders, days to ship (min, max), days in transit (min, max)).
LABS = {
    "Dreve": (("Filiale Mitte", "Filiale Nord"), 26, (3, 7), (1, 2)),
    "egger": (("Filiale Mitte", "Filiale Nord"), 20, (4, 9), (1, 3)),
    "audia": (("Filiale Mitte",), 14, (6, 11), (1, 2)),
    "Hörluchs": (("Filiale Mitte",), 12, (8, 14), (2, 4)),
    "Otoplastik Nord": (("Filiale Nord",), 14, (2, 5), (1, 1)),
}
#: Labs that rejected an order (at its send, after a failed try) in the last weeks.
REJECTING_LABS = ("Dreve", "egger", "Hörluchs")
#: Labs that refused a cancellation (the earmould was already in production).
REFUSING_LABS = ("Dreve", "egger", "Hörluchs")
#: Every FAILED_EVERY-th order went through at its second try, after a timeout.
FAILED_EVERY = 6

O, R, D, E = ComplaintStatus.OPEN, ComplaintStatus.REPORTED, ComplaintStatus.DECIDED, ComplaintStatus.DONE


@dataclass(frozen=True)
class Case:
    """A complaint (or, without ``reason``, a remake ordered by hand) on an order of its own."""

    lab: str
    branch: str
    reason: str  # a standard reason's code; "" for a remake without complaint
    delivered_ago: int  # the original's goods receipt, days before the load
    after: int  # the complaint (and its remake), days after that receipt
    status: str = ""
    outcome: str = ""
    cost_bearer: str = ""
    amount: str | None = None
    remake: str | None = None  # None, "ordered" (at the lab) or "received"
    sides: tuple = (Side.RIGHT, Side.LEFT)


CASES = (
    Case("Dreve", "Filiale Mitte", "fit_pressure", 12, 8, O, sides=(Side.RIGHT,)),
    Case("egger", "Filiale Mitte", "feedback", 30, 22, R, remake="ordered"),
    Case("Otoplastik Nord", "Filiale Nord", "retention", 25, 15, R, sides=(Side.LEFT,)),
    Case("Dreve", "Filiale Mitte", "retention", 70, 14, D, Outcome.FREE_REMAKE, CostBearer.LAB, remake="received"),
    # Charged although inside the fit window: the flagged case.
    Case("audia", "Filiale Mitte", "feedback", 80, 30, D, Outcome.CHARGED_REMAKE, CostBearer.CHAIN, "38.50", "received"),
    # Outside the fit window (105 days > 90): the customer pays, the scorecard does not count it.
    Case("Hörluchs", "Filiale Mitte", "fit_pressure", 190, 105, D, Outcome.CHARGED_REMAKE, CostBearer.CUSTOMER, "59.00", "received"),
    Case("Otoplastik Nord", "Filiale Nord", "material_breakage", 120, 60, D, Outcome.CREDIT, CostBearer.LAB, "45.00"),
    Case("egger", "Filiale Nord", "material_breakage", 60, 40, D, Outcome.REPAIR, CostBearer.CHAIN, "15.00", sides=(Side.LEFT,)),
    Case("Hörluchs", "Filiale Mitte", "loss", 90, 50, D, Outcome.REJECTED, CostBearer.CUSTOMER, sides=(Side.RIGHT,)),
    Case("Dreve", "Filiale Nord", "fit_pressure", 100, 25, E, Outcome.FREE_REMAKE, CostBearer.LAB, remake="received"),
    Case("Dreve", "Filiale Mitte", "material_breakage", 160, 130, E, Outcome.FREE_REMAKE, CostBearer.LAB, remake="received"),
    Case("egger", "Filiale Mitte", "retention", 75, 20, E, Outcome.FREE_REMAKE, CostBearer.LAB, remake="received"),
    Case("audia", "Filiale Mitte", "wrong_execution", 110, 45, E, Outcome.FREE_REMAKE, CostBearer.LAB, remake="received"),
    Case("Otoplastik Nord", "Filiale Nord", "feedback", 65, 12, E, Outcome.FREE_REMAKE, CostBearer.LAB, remake="received"),
    Case("Hörluchs", "Filiale Mitte", "feedback", 70, 10, E, Outcome.CREDIT, CostBearer.LAB, "52.00"),
    Case("egger", "Filiale Nord", "", 50, 10, remake="received"),
    Case("Hörluchs", "Filiale Mitte", "", 60, 20, remake="received"),
)

#: What staff wrote, per reason (invented).
DESCRIPTIONS = {
    "fit_pressure": "Drückt nach zwei Stunden am Tragus.",
    "feedback": "Pfeift beim Kauen und beim Lächeln.",
    "retention": "Rutscht beim Sprechen aus dem Ohr.",
    "material_breakage": "Schallaustritt abgebrochen.",
    "wrong_execution": "Farbe entspricht nicht der Bestellung.",
    "loss": "Otoplastik beim Sport verloren.",
}
HAND_REMAKE_REASON = "Schlauch zu kurz (Nachfertigung ohne Reklamation)."

STYLES = (Style.FULL_SHELL, Style.SHELL, Style.HALF_SHELL, Style.CANAL, Style.SKELETON)
MATERIALS = (Material.ACRYLIC, Material.SILICONE, Material.PHOTOPOLYMER, Material.THERMOTEC)


def exists():
    return EarmouldOrder.objects.filter(number__startswith=PREFIX).exists()


class History:
    """Builds the rows in memory, then writes each model in one bulk insert."""

    def __init__(self, *, chain, branches, suppliers, users, template, definition):
        self.now = timezone.now()
        self.rng = random.Random(SEED)
        self.branches, self.suppliers, self.users = branches, suppliers, users
        self.template_steps = list(template.steps.all())
        self.template, self.definition = template, definition
        self.reasons = {reason.code: reason for reason in ComplaintReason.objects.filter(chain=chain)}
        self.customers = {}
        for branch in branches.values():
            self.customers[branch.name] = list(branch.customers.order_by("last_name", "first_name"))
        self.orders, self.items, self.attempts, self.cancellations = [], [], [], []
        self.complaints, self.events, self.complaint_events = [], [], []
        self.count = 0

    # --- times ------------------------------------------------------------------------------

    def moment(self, days_ago, hour=None):
        """A working-hours moment ``days_ago`` days before now (never in the future)."""
        day = timezone.localdate(self.now) - timedelta(days=days_ago)
        hour = hour if hour is not None else self.rng.randint(8, 16)
        return min(timezone.make_aware(datetime.combine(day, time(hour, self.rng.randint(0, 59)))), self.now - timedelta(hours=1))

    # --- orders -----------------------------------------------------------------------------

    def order(self, lab, branch_name, *, ordered_at, ship_days, transit_days, status=OrderStatus.FITTED, **fields):
        """An order (with ears and a send attempt) recorded as delivered ``ship_days`` +
        ``transit_days`` after ``ordered_at`` (or, for other statuses, as far as it got)."""
        self.count += 1
        branch, supplier = self.branches[branch_name], self.suppliers[lab]
        customers = self.customers[branch_name]
        customer = fields.pop("customer", None) or customers[self.count % len(customers)]
        user = self.users[branch_name]
        delivered = status in (OrderStatus.RECEIVED, OrderStatus.FITTED)
        shipped_at = ordered_at + timedelta(days=ship_days, hours=self.rng.randint(0, 6)) if ordered_at and (delivered or status == OrderStatus.SHIPPED) else None
        received_at = shipped_at + timedelta(days=transit_days) if delivered else None
        if received_at is not None and received_at > self.now - timedelta(hours=1):
            received_at = self.now - timedelta(hours=1)
        order = EarmouldOrder(
            number=f"{PREFIX}{self.count:04d}",
            transaction=Transaction(customer=customer, branch=branch, template=self.template, name=self.template.name, started_by=user),
            customer=customer,
            branch=branch,
            company=supplier.company,
            supplier=supplier,
            interface_definition=self.definition if lab == "Dreve" else None,
            backend=STANDARD,
            status=status,
            prescriber=user,
            created_by=user,
            ordered_at=ordered_at,
            shipped_at=shipped_at,
            received_at=received_at,
            fitted_on=(
                min(timezone.localdate(received_at) + timedelta(days=3), timezone.localdate(self.now))
                if status == OrderStatus.FITTED else None
            ),
            **fields,
        )
        order.created = ordered_at or self.now
        order.eta = compute_eta(order)
        self.orders.append(order)
        return order

    def ears(self, order, sides, like=None):
        """The order's earmoulds (``like``: the original's, for a remake of the same ears)."""
        for side in sides:
            if like is not None:
                source = next(item for item in like if item.side == side)
                style, material = source.style, source.material
            else:
                style = STYLES[(self.count + len(side)) % len(STYLES)]
                material = MATERIALS[self.count % len(MATERIALS)]
            self.items.append(OrderItem(order=order, side=side, style=style, material=material, tube=Tube.STANDARD))
        return self.items[-len(sides):]

    def attempt(self, order, sent_at, outcome=AttemptOutcome.ORDERED, number=1, **fields):
        self.attempts.append(
            Attempt(order=order, number=number, started_at=sent_at, duration_ms=self.rng.randint(300, 2500), outcome=outcome, **fields)
        )

    def sent(self, order, *, failed_first=False):
        """The attempt log of a sent order: a timeout first for some."""
        number = 1
        if failed_first:
            self.attempt(
                order, order.ordered_at - timedelta(minutes=5), AttemptOutcome.TRANSIENT_ERROR,
                error_code="http_timeout", error_params={"s": 30}, error="Das Labor hat nicht rechtzeitig geantwortet.",
            )  # fmt: skip
            number = 2
        self.attempt(order, order.ordered_at, number=number)

    def deliveries(self):
        """The delivered orders of every lab, spread over the months, alternating branches."""
        for lab, (branch_names, count, ship, transit) in LABS.items():
            for n in range(count):
                days_ago = NEWEST_DAYS + (OLDEST_DAYS - NEWEST_DAYS) * (count - 1 - n) // max(count - 1, 1)
                days_ago += self.rng.randint(0, 2)
                ordered_at = self.moment(days_ago)
                supplier = self.suppliers[lab]
                order = self.order(
                    lab, branch_names[n % len(branch_names)], ordered_at=ordered_at,
                    ship_days=self.rng.randint(*ship), transit_days=self.rng.randint(*transit),
                    # Two in three with a date required: the lab's delivery time, give or take.
                    date_required=(
                        timezone.localdate(ordered_at) + timedelta(days=supplier.delivery_days + self.rng.choice((-2, -1, 0, 1, 3)))
                        if n % 3 != 2 and supplier.delivery_days else None
                    ),
                )  # fmt: skip
                self.ears(order, (Side.RIGHT, Side.LEFT) if n % 3 else (Side.RIGHT,))
                self.sent(order, failed_first=self.count % FAILED_EVERY == 0)
                if lab in REFUSING_LABS and n == count - 3:
                    self.cancellations.append(
                        Cancellation(
                            order=order, reason="Kunde möchte eine andere Farbe.", previous_status=OrderStatus.IN_PRODUCTION,
                            outcome=CancellationOutcome.REFUSED, lab_answer="Bereits in Fertigung.", state=DispatchState.DONE,
                            attempt_number=1, due_at=ordered_at + timedelta(days=1), requested_by=order.created_by,
                            answered_at=ordered_at + timedelta(days=1, hours=2),
                        )
                    )  # fmt: skip
        for n, lab in enumerate(REJECTING_LABS):
            branch_name = LABS[lab][0][0]
            created = self.moment(10 + 17 * n)
            order = self.order(lab, branch_name, ordered_at=None, ship_days=0, transit_days=0, status=OrderStatus.REJECTED_BY_LAB,
                               failure_reason="Abdruck unvollständig.")  # fmt: skip
            order.created = created
            self.ears(order, (Side.RIGHT,))
            self.attempt(order, created - timedelta(minutes=10), AttemptOutcome.TRANSIENT_ERROR,
                         error_code="http_timeout", error_params={"s": 30})  # fmt: skip
            self.attempt(order, created, AttemptOutcome.REJECTED, number=2, error="Abdruck unvollständig.")

    # --- complaints -------------------------------------------------------------------------

    def cases(self):
        ship_transit = {lab: (ship, transit) for lab, (_b, _c, ship, transit) in LABS.items()}
        for case in CASES:
            ship, transit = ship_transit[case.lab]
            ship_days, transit_days = self.rng.randint(*ship), self.rng.randint(*transit)
            ordered_at = self.moment(case.delivered_ago + ship_days + transit_days, hour=9)
            original = self.order(case.lab, case.branch, ordered_at=ordered_at, ship_days=ship_days, transit_days=transit_days)
            original_items = self.ears(original, (Side.RIGHT, Side.LEFT))
            self.sent(original)
            raised_ago = case.delivered_ago - case.after
            raised_at = self.moment(raised_ago, hour=11)
            reason = self.reasons.get(case.reason)
            remake = None
            if case.remake:
                received = case.remake == "received"
                remake = self.order(
                    case.lab, case.branch, customer=original.customer, ordered_at=raised_at,
                    ship_days=min(self.rng.randint(*ship), max(raised_ago - 3, 0)), transit_days=1,
                    status=OrderStatus.FITTED if received else OrderStatus.IN_PRODUCTION,
                    order_type=OrderType.REMAKE, original_order=original,
                    reason=f"{reason.label}: {DESCRIPTIONS[case.reason]}" if reason else HAND_REMAKE_REASON,
                    reason_code=reason.code if reason else "", reason_category=reason.category if reason else "",
                    cost_bearer=case.cost_bearer if case.status in (D, E) else "",
                    cost_amount=Decimal(case.amount) if case.amount and case.status in (D, E) else None,
                )  # fmt: skip
                self.ears(remake, case.sides, like=original_items)
                self.sent(remake)
            if reason is not None:
                self.complaint(case, original, reason, raised_at, remake)

    def complaint(self, case, original, reason, raised_at, remake):
        offer = window.proposal(original, reason.category, today=timezone.localdate(raised_at))
        decided_at = min(raised_at + timedelta(days=7), self.now - timedelta(hours=2)) if case.status in (D, E) else None
        closed_at = min(decided_at + timedelta(days=5), self.now - timedelta(hours=1)) if case.status == E else None
        complaint = Complaint(
            order=original, sides=list(case.sides), reason=reason, description=DESCRIPTIONS[reason.code],
            return_old_mould=case.remake is not None, status=case.status, free_remake=offer.free,
            free_remake_until=offer.until, outcome=case.outcome, cost_bearer=case.cost_bearer,
            amount=Decimal(case.amount) if case.amount else None, remake_order=remake,
            created_by=self.users[case.branch], decided_at=decided_at, closed_at=closed_at,
        )  # fmt: skip
        complaint.created = raised_at
        self.complaints.append(complaint)
        steps = [("complaint_raised", {"reason": reason.label, "sides": ",".join(case.sides), "photos": 0}, raised_at)]
        if remake is not None:
            steps.append(("complaint_remake_ordered", {"number": remake.number}, raised_at + timedelta(minutes=2)))
        elif case.status != O:
            steps.append(("complaint_reported", {}, min(raised_at + timedelta(days=1), self.now - timedelta(hours=3))))
        if decided_at is not None:
            params = {"outcome": case.outcome, "cost_bearer": case.cost_bearer}
            if case.amount:
                params |= {"amount": case.amount, "variant": "amount"}
            steps.append(("complaint_decided", params, decided_at))
        if closed_at is not None:
            steps.append(("complaint_closed", {}, closed_at))
        for code, params, when in steps:
            self.complaint_events.append((complaint, original, code, params, when))

    # --- writing ----------------------------------------------------------------------------

    def write(self):
        """Everything in bulk, ``created_at`` (set on insert) moved back to the history's days;
        the events one by one with their own time."""
        transactions = Transaction.objects.bulk_create([order.transaction for order in self.orders])
        steps = Step.objects.bulk_create(
            Step(
                transaction=txn, position=step.position, step_type=step.step_type, title=step.title,
                predefined_company_id=step.predefined_company_id, predefined_supplier_id=step.predefined_supplier_id,
            )
            for txn in transactions
            for step in self.template_steps
        )  # fmt: skip
        order_steps = {step.transaction_id: step for step in steps if step.is_order_service}
        for order in self.orders:
            order.transaction_id = order.transaction.pk
            order.step = order_steps.get(order.transaction.pk)
        EarmouldOrder.objects.bulk_create(self.orders)
        OrderItem.objects.bulk_create(self.items)
        Attempt.objects.bulk_create(self.attempts)
        Cancellation.objects.bulk_create(self.cancellations)
        Complaint.objects.bulk_create(self.complaints)
        for order in self.orders:
            order.created_at = order.transaction.created_at = order.created
            self.events.append(
                OrderEvent(
                    order=order, from_status=OrderStatus.QUEUED, to_status=order.status, source=EventSource.SYSTEM,
                    message=event_texts.german("demo_data"), data={"code": "demo_data", "params": {}},
                )
            )  # fmt: skip
            self.events[-1].created = order.created
        for complaint, order, code, params, when in self.complaint_events:
            event = OrderEvent(
                order=order, source=EventSource.STAFF, actor=complaint.created_by, message=event_texts.german(code, params),
                data={"complaint": str(complaint.pk), "code": code, "params": params},
            )  # fmt: skip
            event.created = when
            self.events.append(event)
        for rows in (self.orders, self.complaints):
            for row in rows:
                row.created_at = row.created
        EarmouldOrder.objects.bulk_update(self.orders, ["created_at"], batch_size=500)
        Transaction.objects.bulk_update(transactions, ["created_at"], batch_size=500)
        Complaint.objects.bulk_update(self.complaints, ["created_at"], batch_size=500)
        # Events are append-only and take their time on insert: stored as given (``raw``, as
        # fixtures are loaded), which also keeps the bell quiet about history.
        for event in self.events:
            event.created_at = event.created
            event.save_base(raw=True)
        return len(self.orders) + len(self.complaints)


def load(**kwargs):
    """Write the history once; returns the number of orders and complaints created."""
    if exists():
        return 0
    history = History(**kwargs)
    history.deliveries()
    history.cases()
    return history.write()
