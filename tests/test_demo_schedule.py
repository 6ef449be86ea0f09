"""The demo data shows the ETA: an overdue order, one at risk and a shipped one with a tracking
link; branches in two Bundesländer; suppliers with turnaround, shipping days and carrier."""

import pytest
from django.utils import timezone

from branches.models import Branch
from otoorder.orders import schedule
from otoorder.orders.models import Dispatch, EarmouldOrder
from suppliers.models import Supplier
from tests.test_demo_data import load, sandbox_env  # noqa: F401 - fixture


@pytest.fixture
def demo(db, sandbox_env):  # noqa: F811
    load()


def test_demo_orders_are_overdue_at_risk_and_shipped(demo):
    overdue = EarmouldOrder.objects.get(number="DEMO-UEBERFAELLIG")
    at_risk = EarmouldOrder.objects.get(number="DEMO-GEFAEHRDET")
    shipped = EarmouldOrder.objects.get(number="DEMO-VERSANDT")
    assert schedule.is_overdue(overdue) and schedule.days_late(overdue) > 0
    assert schedule.is_at_risk(at_risk) and not schedule.is_overdue(at_risk)
    assert not schedule.is_overdue(shipped) and shipped.tracking_url.startswith("https://www.dhl.de/")
    assert set(schedule.overdue_orders().values_list("number", flat=True)) == {"DEMO-UEBERFAELLIG"}
    assert all(order.eta == schedule.compute_eta(order) for order in (overdue, at_risk, shipped))
    assert all(order.items.count() == 1 and order.events.count() == 1 for order in (overdue, at_risk, shipped))
    assert not Dispatch.objects.filter(order__number__startswith="DEMO-").exists()


def test_demo_orders_are_created_once(demo):
    EarmouldOrder.objects.filter(number="DEMO-GEFAEHRDET").update(eta=timezone.localdate())
    assert "0 created, 0 updated" in load()
    assert EarmouldOrder.objects.get(number="DEMO-GEFAEHRDET").eta == timezone.localdate()


def test_demo_branches_and_suppliers_carry_the_schedule_settings(demo):
    assert dict(Branch.objects.values_list("name", "state")) == {"Filiale Mitte": "BE", "Filiale Nord": "HH"}
    dreve = Supplier.objects.get(company__name="Dreve", name="")
    assert (dreve.turnaround_days, dreve.shipping_days, dreve.carrier) == (6, 1, "dhl")
