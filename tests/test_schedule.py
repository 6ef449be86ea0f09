"""ETA, overdue and at risk: working days per Bundesland, the order's dates, Python and SQL alike."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders import lifecycle, schedule, services
from otoorder.orders.choices import AWAITING_SHIPMENT, OPEN, OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.models import EarmouldOrder
from tests.factories import bte_item
from tests.lifecycle_fixtures import TO_ORDERED, walk

BERLIN = ZoneInfo("Europe/Berlin")
S = OrderStatus


# --- Working days: weekends, holidays of the states, year ends -------------------------------

WORKING_DAYS = [
    # start, working days, state, expected — why
    (date(2026, 3, 6), 0, "NW", date(2026, 3, 6)),  # nothing to add
    (date(2026, 3, 6), 1, "NW", date(2026, 3, 9)),  # Friday + 1 → Monday
    (date(2026, 3, 7), 1, "NW", date(2026, 3, 9)),  # sent on a Saturday
    (date(2026, 3, 8), 1, "NW", date(2026, 3, 9)),  # sent on a Sunday
    (date(2026, 3, 6), 5, "NW", date(2026, 3, 13)),  # one full week
    (date(2026, 3, 2), 10, "NW", date(2026, 3, 16)),  # two weeks
    (date(2026, 4, 2), 1, "NW", date(2026, 4, 7)),  # Karfreitag, weekend, Ostermontag
    (date(2026, 4, 2), 1, "SN", date(2026, 4, 7)),  # the same everywhere
    (date(2026, 6, 3), 1, "NW", date(2026, 6, 5)),  # Fronleichnam (Thu 4 June) in NW
    (date(2026, 6, 3), 1, "BY", date(2026, 6, 5)),  # … and in Bayern
    (date(2026, 6, 3), 1, "NI", date(2026, 6, 4)),  # … not in Niedersachsen
    (date(2026, 6, 3), 1, "HH", date(2026, 6, 4)),  # … not in Hamburg
    (date(2025, 10, 30), 1, "NI", date(2025, 11, 3)),  # Reformationstag (Fri 31 Oct) in NI
    (date(2025, 10, 30), 1, "SN", date(2025, 11, 3)),  # … in Sachsen
    (date(2025, 10, 30), 1, "NW", date(2025, 10, 31)),  # … not in NW
    (date(2025, 10, 30), 2, "NW", date(2025, 11, 3)),  # Allerheiligen (1 Nov) fell on a Saturday
    (date(2025, 11, 18), 1, "SN", date(2025, 11, 20)),  # Buß- und Bettag (Wed 19 Nov) in Sachsen
    (date(2025, 11, 18), 1, "NW", date(2025, 11, 19)),  # … not in NW
    (date(2025, 12, 23), 1, "NW", date(2025, 12, 24)),  # Heiligabend is a working day
    (date(2025, 12, 23), 2, "NW", date(2025, 12, 29)),  # 1st/2nd Christmas day, then the weekend
    (date(2025, 12, 30), 2, "NW", date(2026, 1, 2)),  # Silvester works, Neujahr does not
    (date(2026, 12, 30), 2, "NW", date(2027, 1, 4)),  # into the next year: Neujahr on a Friday
    (date(2027, 1, 4), 2, "BY", date(2027, 1, 7)),  # Heilige Drei Könige (Wed 6 Jan) in Bayern
    (date(2027, 1, 4), 2, "NW", date(2027, 1, 6)),  # … not in NW
    (date(2026, 12, 18), 10, "SN", date(2027, 1, 5)),  # ten days over Christmas and New Year
]


@pytest.mark.parametrize("start, days, state, expected", WORKING_DAYS)
def test_add_working_days(start, days, state, expected):
    assert schedule.add_working_days(start, days, state) == expected


def test_unknown_state_counts_like_nw_and_days_are_bounded():
    assert schedule.add_working_days(date(2026, 6, 3), 1, "XX") == date(2026, 6, 5)
    assert schedule.add_working_days(date(2026, 1, 1), 10**9, "NW") < date(2028, 1, 1)
    assert schedule.add_working_days(date(2026, 3, 6), -3, "NW") == date(2026, 3, 6)


# --- The order's ETA ---------------------------------------------------------------------


@pytest.fixture
def placed(transaction_obj, dreve, dreve_supplier, alice):
    return services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
    )


def _set_supplier(supplier, **values):
    for name, value in values.items():
        setattr(supplier, name, value)
    supplier.save()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state, turnaround, delivery, shipping, expected",
    [
        ("NW", 3, 10, 1, date(2026, 6, 10)),  # Fronleichnam counts in NW
        ("NI", 3, 10, 1, date(2026, 6, 9)),  # … not in NI
        ("NW", None, 5, 2, date(2026, 6, 15)),  # no turnaround: the delivery days
        ("NW", 0, 10, 0, date(2026, 6, 3)),
    ],
)
def test_compute_eta_counts_turnaround_and_shipping_in_the_branchs_state(
    placed, dreve_supplier, state, turnaround, delivery, shipping, expected
):
    _set_supplier(dreve_supplier, turnaround_days=turnaround, delivery_days=delivery, shipping_days=shipping)
    placed.branch.state = state
    placed.branch.save()
    placed.ordered_at = datetime(2026, 6, 3, 10, 0, tzinfo=BERLIN)
    assert schedule.compute_eta(placed) == expected


@pytest.mark.django_db
def test_compute_eta_takes_the_local_day_of_sending(placed, dreve_supplier):
    _set_supplier(dreve_supplier, turnaround_days=1, shipping_days=0)
    # 22:30 UTC on Tuesday is 00:30 on Wednesday in Berlin: counted from Wednesday.
    placed.ordered_at = datetime(2026, 6, 2, 22, 30, tzinfo=ZoneInfo("UTC"))
    assert schedule.compute_eta(placed) == date(2026, 6, 5)


@pytest.mark.django_db
def test_compute_eta_is_none_before_the_order_is_sent(placed):
    assert placed.ordered_at is None
    assert schedule.compute_eta(placed) is None


@pytest.mark.django_db
def test_eta_is_set_when_the_worker_reaches_the_lab_and_kept_afterwards(placed, dreve_supplier):
    _set_supplier(dreve_supplier, turnaround_days=4, shipping_days=1)
    assert placed.eta is None
    walk(placed, S.SENDING)
    placed.refresh_from_db()
    assert placed.eta is None
    placed.ordered_at = timezone.now()
    lifecycle.set_status(placed, S.ORDERED, source="worker", save_fields=["ordered_at"])
    placed.refresh_from_db()
    expected = schedule.add_working_days(timezone.localdate(), 5, placed.branch.state)
    assert placed.eta == expected
    # Later lab reports keep the ETA the order got when it was sent.
    _set_supplier(dreve_supplier, turnaround_days=20)
    walk(placed, S.CONFIRMED, S.IN_PRODUCTION)
    placed.refresh_from_db()
    assert placed.eta == expected


@pytest.mark.django_db
def test_a_resent_order_gets_a_new_eta(placed, alice):
    walk(placed, *TO_ORDERED)
    EarmouldOrder.objects.filter(pk=placed.pk).update(eta=date(2020, 1, 2))
    placed.refresh_from_db()
    walk(placed, S.REJECTED_BY_LAB)
    services.resend(placed, user=alice)
    placed.refresh_from_db()
    assert placed.status == S.QUEUED and placed.eta is None
    walk(placed, *TO_ORDERED)
    placed.refresh_from_db()
    assert placed.eta > date(2020, 1, 2)


@pytest.mark.django_db
def test_eta_is_set_on_manual_confirmation(placed, alice):
    walk(placed, S.SENDING, S.AWAITING_MANUAL)
    services.confirm_manual_order(placed, user=alice)
    placed.refresh_from_db()
    assert placed.status == S.ORDERED and placed.eta is not None
    assert placed.eta == schedule.compute_eta(placed)


@pytest.mark.django_db
def test_eta_is_set_when_a_portal_order_goes_straight_to_production(placed):
    walk(placed, S.SENDING, S.AWAITING_PORTAL)
    apply_status_update(placed, StatusUpdate(status="in_production", external_reference="P-1"))
    placed.refresh_from_db()
    assert placed.status == S.IN_PRODUCTION
    supplier = placed.supplier
    days = schedule.turnaround_days(supplier) + supplier.shipping_days
    assert placed.eta == schedule.add_working_days(timezone.localdate(), days, placed.branch.state)


@pytest.mark.django_db
def test_shipped_at_is_set_when_the_lab_ships(placed):
    walk(placed, *TO_ORDERED)
    before = timezone.now()
    apply_status_update(placed, StatusUpdate(status="shipped", tracking_number="00340434"))
    placed.refresh_from_db()
    assert placed.shipped_at is not None and placed.shipped_at >= before
    first = placed.shipped_at
    lifecycle.receive(placed, user=None, without_serial=["right"])
    placed.refresh_from_db()
    assert placed.shipped_at == first


# --- Overdue and at risk: one order, and the same in SQL --------------------------------------

TODAY = date(2026, 6, 15)
DAY = timedelta(days=1)

SCHEDULE_CASES = [
    # status, eta, date required, overdue, at risk, days late
    (S.ORDERED, TODAY + DAY, None, False, False, 0),
    (S.ORDERED, TODAY, None, False, False, 0),  # due today is not late yet
    (S.ORDERED, TODAY - DAY, None, True, False, 1),
    (S.CONFIRMED, TODAY - 3 * DAY, TODAY + 5 * DAY, True, False, 3),
    (S.IN_PRODUCTION, TODAY + 2 * DAY, TODAY - 2 * DAY, True, True, 2),  # the date required passed
    (S.ON_HOLD, TODAY - 2 * DAY, TODAY - 4 * DAY, True, True, 4),  # the earlier deadline counts
    (S.QUEUED, None, TODAY - DAY, True, False, 1),  # not sent, but needed yesterday
    (S.ORDERED, None, None, False, False, 0),
    (S.ORDERED, TODAY + 5 * DAY, TODAY + 3 * DAY, False, True, 0),  # ETA after date required
    (S.ORDERED, TODAY + 3 * DAY, TODAY + 3 * DAY, False, False, 0),  # just in time
    (S.CANCEL_REQUESTED, TODAY - DAY, None, True, False, 1),
    (S.SHIPPED, TODAY - 5 * DAY, TODAY - 5 * DAY, False, False, 0),  # shipped: not late any more
    (S.RECEIVED, TODAY - 5 * DAY, None, False, False, 0),
    (S.FAILED, TODAY - 5 * DAY, TODAY - 5 * DAY, False, False, 0),  # needs attention, not "late"
    (S.CANCELLED, TODAY - 5 * DAY, None, False, False, 0),
    (S.CLOSED, TODAY - 5 * DAY, TODAY - 9 * DAY, False, False, 0),
]


@pytest.mark.parametrize("status, eta, required, overdue, at_risk, late", SCHEDULE_CASES)
def test_overdue_and_at_risk_of_one_order(status, eta, required, overdue, at_risk, late):
    order = EarmouldOrder(status=status, eta=eta, date_required=required)
    assert schedule.is_overdue(order, TODAY) is overdue
    assert schedule.is_at_risk(order) is at_risk
    assert schedule.days_late(order, TODAY) == late
    assert schedule.schedule_of(order, TODAY) == schedule.Schedule(eta, required, overdue, at_risk, late)


@pytest.mark.django_db
def test_the_database_expressions_say_the_same(placed):
    for status, eta, required, overdue, at_risk, _late in SCHEDULE_CASES:
        EarmouldOrder.objects.filter(pk=placed.pk).update(status=status, eta=eta, date_required=required)
        row = schedule.annotate_schedule(EarmouldOrder.objects.filter(pk=placed.pk), TODAY).get()
        assert (row.is_overdue, row.is_at_risk) == (overdue, at_risk), (status, eta, required)
        assert schedule.overdue_orders(TODAY).filter(pk=placed.pk).exists() is overdue


@pytest.mark.django_db
def test_overdue_orders_filters_in_one_query(transaction_obj, dreve, dreve_supplier, alice, django_assert_num_queries):
    orders = [
        services.place_order(
            transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
        )
        for _ in range(3)
    ]
    EarmouldOrder.objects.filter(pk=orders[0].pk).update(status=S.ORDERED, eta=TODAY - DAY)
    EarmouldOrder.objects.filter(pk=orders[1].pk).update(status=S.ORDERED, eta=TODAY + DAY)
    EarmouldOrder.objects.filter(pk=orders[2].pk).update(status=S.SHIPPED, eta=TODAY - DAY)
    with django_assert_num_queries(1):
        assert list(schedule.overdue_orders(TODAY).values_list("pk", flat=True)) == [orders[0].pk]


def test_overdue_statuses_are_open_ones_not_shipped():
    assert AWAITING_SHIPMENT < OPEN
    assert S.SHIPPED not in AWAITING_SHIPMENT and S.ON_HOLD in AWAITING_SHIPMENT


@pytest.mark.django_db
def test_the_data_migration_fills_eta_and_shipped_at_of_orders_sent_before(placed, dreve_supplier):
    from importlib import import_module

    from django.apps import apps

    fill = import_module("otoorder.orders.migrations.0008_eta_for_sent_orders").fill
    _set_supplier(dreve_supplier, turnaround_days=3, shipping_days=1)
    walk(placed, *TO_ORDERED, S.SHIPPED)
    shipped_event = placed.events.get(to_status=S.SHIPPED)
    sent_at = datetime(2026, 6, 3, 10, 0, tzinfo=BERLIN)
    EarmouldOrder.objects.filter(pk=placed.pk).update(ordered_at=sent_at, eta=None, shipped_at=None)
    fill(apps, None)
    placed.refresh_from_db()
    assert placed.eta == date(2026, 6, 10)
    assert placed.shipped_at == shipped_event.created_at
