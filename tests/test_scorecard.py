"""Lab scorecards: the figures against a hand-computed fixture, constant queries, the page, the
CSV export and the API, each limited to the branches the user may see."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from otoorder.orders import choices, scorecard
from otoorder.orders.models import Attempt, Cancellation, EarmouldOrder
from tests import factories as f

BERLIN = ZoneInfo("Europe/Berlin")
S = choices.OrderStatus
FROM, TO = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)


def at(day, hour=10, month=3):
    return datetime.datetime(2026, month, day, hour, tzinfo=BERLIN)


@pytest.fixture
def labs(dreve_supplier):
    other = f.SupplierFactory(company=f.CompanyFactory(name="Otoplastik Nord"), name="")
    return dreve_supplier, other


@pytest.fixture
def fixture_orders(labs, transaction_obj, nord, template, bob):
    """Dreve (Mitte), ordered 2 March 10:00:
    shipped after 2, 3, 5, 10 days; received 1, 1, 2, 2 days later (3, 4, 7, 12 days);
    date required: day 3 (received day 3: on time), day 3 (received day 4: late), day 10
    (received day 7: on time), none. A fifth order is ordered and neither shipped nor received,
    a sixth rejected by the lab before it was ever ordered (two failed sends). Outside: an
    order of April, one of Nord.

    Dreve's free-remake windows are 10 days (fit) and 2 months (material) from the goods
    receipt: the four received orders (5, 6, 9 and 14 March) are free for fit until 15, 16,
    19 and 24 March; an order of January received on 28 January is free for material until
    28 March. Remakes, all to the other lab in Mitte:
    counted: without category of the first order on 15 March 23:00 (its last day),
    fit of the second on 16 March (its last day), material of the third on 25 March,
    material of January's on 28 March (its last day);
    not counted: fit of the third on 20 March (a day late), without category of the second
    on 17 March (a day late), fit of January's on 1 March (fit closed 7 February),
    fit of the fourth on 2 April (outside the period).
    So fit 1, material 2, without category 1 over 4 received: 25 %, 50 %, 25 %, in all 100 %."""
    dreve, other = labs
    dreve.remake_fit_days, dreve.remake_material_months = 10, 2
    dreve.save(update_fields=["remake_fit_days", "remake_material_months"])
    ordered = at(2)
    plan = [(2, 3, 3), (3, 4, 3), (5, 7, 10), (10, 12, None)]
    orders = f.bulk_orders(transaction_obj, dreve, 6, prefix="SC")
    for order, (ship, receive, required) in zip(orders, plan):
        order.status = S.RECEIVED
        order.ordered_at = ordered
        order.shipped_at = ordered + datetime.timedelta(days=ship)
        order.received_at = ordered + datetime.timedelta(days=receive)
        order.date_required = (ordered + datetime.timedelta(days=required)).date() if required else None
    orders[4].status, orders[4].ordered_at = S.ORDERED, ordered
    orders[5].status = S.REJECTED_BY_LAB
    EarmouldOrder.objects.bulk_update(
        orders, ["status", "ordered_at", "shipped_at", "received_at", "date_required"]
    )
    EarmouldOrder.objects.filter(pk=orders[5].pk).update(created_at=at(5))
    Attempt.objects.bulk_create(
        [
            Attempt(order=orders[0], number=1, started_at=ordered, outcome=choices.AttemptOutcome.ORDERED),
            Attempt(order=orders[5], number=1, started_at=at(5), outcome=choices.AttemptOutcome.TRANSIENT_ERROR),
            Attempt(order=orders[5], number=2, started_at=at(5), outcome=choices.AttemptOutcome.REJECTED),
        ]
    )
    Cancellation.objects.create(order=orders[4], previous_status=S.ORDERED, outcome=choices.CancellationOutcome.REFUSED)
    Cancellation.objects.create(order=orders[4], sequence=2, previous_status=S.ORDERED, outcome=choices.CancellationOutcome.ACCEPTED)
    [january] = f.bulk_orders(
        transaction_obj, dreve, 1, prefix="JA", status=S.RECEIVED,
        ordered_at=at(20, month=1), shipped_at=at(25, month=1), received_at=at(28, month=1),
    )
    fit, material = choices.ReasonCategory.FIT, choices.ReasonCategory.MATERIAL
    remakes = [
        (orders[0], "", at(15, hour=23)),
        (orders[1], fit, at(16)),
        (orders[2], material, at(25)),
        (january, material, at(28)),
        (orders[2], fit, at(20)),
        (orders[1], "", at(17)),
        (january, fit, at(1)),
        (orders[3], fit, at(2, month=4)),
    ]
    for number, (original, category, day) in enumerate(remakes, start=1):
        f.bulk_orders(
            transaction_obj, other, 1, prefix="RM", start=number, order_type=choices.OrderType.REMAKE,
            original_order=original, reason_category=category, status=S.ORDERED, ordered_at=day,
        )
    f.bulk_orders(transaction_obj, dreve, 1, prefix="AP", status=S.SHIPPED, ordered_at=at(2, month=4), shipped_at=at(3, month=4))
    nord_customer = f.CustomerFactory(branch=nord)
    nord_transaction = f.TransactionFactory(customer=nord_customer, template=template, started_by=bob)
    f.bulk_orders(nord_transaction, dreve, 1, prefix="NO", status=S.SHIPPED, ordered_at=ordered, shipped_at=at(4))
    return orders


def scores_by_lab(branches, **kwargs):
    return {score.supplier: score for score in scorecard.compute(FROM, TO, branches, **kwargs)}


def test_the_figures_match_the_hand_computed_fixture(fixture_orders, mitte):
    scores = scores_by_lab([mitte.pk])
    dreve = scores["Dreve"]
    assert dreve.orders == 5
    assert dreve.shipped_median_days == 4.0  # (3 + 5) / 2
    assert dreve.shipped_p90_days == 8.5  # 5 + 0.7 × (10 − 5)
    assert dreve.received_median_days == 5.5  # (4 + 7) / 2
    assert dreve.received_p90_days == 10.5  # 7 + 0.7 × (12 − 7)
    assert (dreve.on_time, dreve.with_date_required, dreve.on_time_rate) == (2, 3, 0.6667)
    assert (dreve.remakes, dreve.received, dreve.remake_rate) == (4, 4, 1.0)
    assert (dreve.fit_remakes, dreve.fit_remake_rate) == (1, 0.25)
    assert (dreve.material_remakes, dreve.material_remake_rate) == (2, 0.5)
    assert (dreve.uncategorised_remakes, dreve.uncategorised_remake_rate) == (1, 0.25)
    assert dreve.rejected == 1
    assert dreve.failed_sends == 2
    assert dreve.cancellations_refused == 1
    other = scores["Otoplastik Nord"]
    # The remakes it made ordered in March; none of its own orders were remade.
    assert (other.orders, other.remakes, other.remake_rate, other.shipped_median_days) == (7, 0, None, None)
    assert (other.fit_remake_rate, other.material_remake_rate, other.uncategorised_remake_rate) == (None, None, None)


def test_a_remake_counts_in_its_window_after_the_shipping_day_without_goods_receipt(fixture_orders, mitte, labs, transaction_obj):
    """No goods receipt: the window runs from the day the lab shipped (as ``orders.warranty``)."""
    dreve, other = labs
    [shipped] = f.bulk_orders(
        transaction_obj, dreve, 1, prefix="SH", status=S.SHIPPED, ordered_at=at(1, month=2), shipped_at=at(28, month=2)
    )
    for number, day in ((1, at(10)), (2, at(11))):  # fit window: 28 February + 10 days = 10 March
        f.bulk_orders(
            transaction_obj, other, 1, prefix="SR", start=number, order_type=choices.OrderType.REMAKE,
            original_order=shipped, reason_category=choices.ReasonCategory.FIT, status=S.ORDERED, ordered_at=day,
        )
    dreve_score = scores_by_lab([mitte.pk])["Dreve"]
    assert (dreve_score.fit_remakes, dreve_score.fit_remake_rate, dreve_score.remake_rate) == (2, 0.5, 1.25)


def test_chain_wide_adds_the_other_branch_and_a_lab_can_be_asked_alone(fixture_orders, mitte, nord, labs):
    dreve = scores_by_lab([mitte.pk, nord.pk])["Dreve"]
    assert dreve.orders == 6
    assert dreve.shipped_median_days == 3.0  # 2, 2, 3, 5, 10
    only = scorecard.compute(FROM, TO, [nord.pk], supplier_id=labs[0].pk)
    assert [(score.supplier, score.orders) for score in only] == [("Dreve", 1)]


def test_the_percentile_matches_percentile_cont():
    assert scorecard.percentile([], 0.5) is None
    assert scorecard.percentile([7.0], 0.9) == 7.0
    assert scorecard.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == pytest.approx(4.6)


def test_the_number_of_queries_does_not_grow_with_the_orders(fixture_orders, mitte, labs, transaction_obj):
    expected = 4 if connection.vendor == "postgresql" else 6
    with CaptureQueriesContext(connection) as few:
        scorecard.compute(FROM, TO, [mitte.pk])
    f.bulk_orders(
        transaction_obj, labs[0], 40, prefix="MORE", status=S.RECEIVED,
        ordered_at=at(9), shipped_at=at(11), received_at=at(12),
    )
    for category in ("fit", "material", ""):
        f.bulk_orders(
            transaction_obj, labs[1], 10, prefix=f"MR{category}", order_type=choices.OrderType.REMAKE,
            original_order=fixture_orders[1], reason_category=category, status=S.ORDERED, ordered_at=at(10),
        )
    with CaptureQueriesContext(connection) as many:
        scores = scorecard.compute(FROM, TO, [mitte.pk])
    assert len(few) == len(many) == expected
    [dreve] = [score for score in scores if score.supplier == "Dreve"]
    assert dreve.orders == 45
    assert (dreve.fit_remakes, dreve.material_remakes, dreve.uncategorised_remakes) == (11, 12, 11)


# --- API ------------------------------------------------------------------------------------


def api_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def scorecard_url(supplier, **params):
    from urllib.parse import urlencode

    return f"/api/v1/suppliers/{supplier.pk}/scorecard/?{urlencode(params)}"


def test_the_api_returns_the_figures_of_the_users_branches(fixture_orders, labs, carol, dave, mitte, nord):
    dreve = labs[0]
    params = {"from": "2026-03-01", "to": "2026-03-31"}
    mine = api_client(carol).get(scorecard_url(dreve, **params))
    assert mine.status_code == 200, mine.content
    body = mine.json()
    assert (body["orders"], body["shipped_median_days"], body["shipped_p90_days"]) == (5, 4.0, 8.5)
    assert (body["received_median_days"], body["received_p90_days"]) == (5.5, 10.5)
    assert (body["on_time_rate"], body["remake_rate"], body["failed_sends"]) == (0.6667, 1.0, 2)
    assert (body["fit_remakes"], body["material_remakes"], body["uncategorised_remakes"]) == (1, 2, 1)
    assert (body["fit_remake_rate"], body["material_remake_rate"], body["uncategorised_remake_rate"]) == (0.25, 0.5, 0.25)
    assert body["branch"] is None
    # Carol administers Mitte only: Nord is not hers, not even to ask for.
    refused = api_client(carol).get(scorecard_url(dreve, branch=nord.pk, **params))
    assert refused.status_code == 400
    assert "Diese Filiale gibt es nicht." in refused.content.decode()
    chain_wide = api_client(dave).get(scorecard_url(dreve, **params)).json()
    assert chain_wide["orders"] == 6
    nord_only = api_client(dave).get(scorecard_url(dreve, branch=nord.pk, **params)).json()
    assert (nord_only["orders"], nord_only["branch"]) == (1, str(nord.pk))


def test_the_edges_of_the_calendar_are_no_error(labs, carol):
    for period in ({"from": "9999-12-01", "to": "9999-12-31"}, {"from": "0001-01-01", "to": "0001-01-31"}):
        response = api_client(carol).get(scorecard_url(labs[0], **period))
        assert response.status_code == 200
        assert response.json()["orders"] == 0


def test_a_lab_without_orders_in_the_period_has_empty_figures(labs, carol):
    body = api_client(carol).get(scorecard_url(labs[1], **{"from": "2026-03-01", "to": "2026-03-31"})).json()
    assert (body["supplier"], body["orders"], body["shipped_median_days"], body["on_time_rate"]) == (
        "Otoplastik Nord", 0, None, None
    )


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "Bitte den Zeitraum angeben (von und bis)."),
        ({"from": "März", "to": "2026-03-31"}, "Bitte ein Datum im Format JJJJ-MM-TT angeben."),
        ({"from": "2026-03-31", "to": "2026-03-01"}, "Das Ende des Zeitraums liegt vor seinem Beginn."),
        ({"from": "2020-01-01", "to": "2026-03-01"}, "Der Zeitraum darf höchstens 731 Tage umfassen."),
        ({"from": "2026-03-01", "to": "2026-03-31", "branch": "nein"}, "Diese Filiale gibt es nicht."),
        ({"from": "2026-03-01", "to": "2026-03-31", "branch": "00000000-0000-0000-0000-000000000000"}, "Diese Filiale gibt es nicht."),
    ],
)
def test_the_api_refuses_bad_parameters_in_german(labs, carol, params, message):
    response = api_client(carol).get(scorecard_url(labs[0], **params))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_scorecard_is_in_the_openapi_schema(carol):
    response = api_client(carol).get("/api/schema/?format=json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/suppliers/{id}/scorecard/" in text
    assert "shipped_p90_days" in text


# --- page and CSV ---------------------------------------------------------------------------


def page_get(client, user, **params):
    client.force_login(user)
    return client.get("/filialverwaltung/laborkennzahlen/", params)


PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def test_the_page_shows_the_labs_of_the_admins_branches(client, fixture_orders, carol, dave, nord):
    response = page_get(client, carol, **PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="scorecard"' in html and 'id="scorecard-data"' in html
    [dreve] = [row for row in response.context["rows"] if row["supplier"] == "Dreve"]
    assert dreve["cells"][0] == (5, "count")
    assert "Filiale Nord" not in html  # not offered to Mitte's admin
    assert "vendor/chart.js/chart.umd.min.js" in html and "js/scorecard.js" in html
    assert "<script>" not in html.replace('<script id="scorecard-data" type="application/json">', "")
    refused = page_get(client, carol, branch=nord.pk, **PERIOD)
    assert "Diese Filiale gibt es nicht." in refused.content.decode()
    assert refused.context["rows"] == []
    chain = page_get(client, dave, **PERIOD)
    assert [row["cells"][0] for row in chain.context["rows"] if row["supplier"] == "Dreve"] == [(6, "count")]
    nord_only = page_get(client, dave, branch=nord.pk, **PERIOD)
    assert [row["cells"][0] for row in nord_only.context["rows"]] == [(1, "count")]


def test_staff_are_stopped_at_the_door(client, alice):
    assert page_get(client, alice, **PERIOD).status_code == 403


def test_the_page_checks_the_period(client, carol):
    html = page_get(client, carol, date_from="2026-03-31", date_to="2026-03-01").content.decode()
    assert "Das Ende des Zeitraums liegt vor seinem Beginn." in html
    html = page_get(client, carol, date_from="gestern", date_to="2026-03-01").content.decode()
    assert "Bitte ein gültiges Datum angeben." in html
    assert page_get(client, carol).status_code == 200  # the last 90 days without a query


def test_the_csv_has_the_same_figures(client, fixture_orders, carol):
    response = page_get(client, carol, format="csv", **PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "laborkennzahlen-2026-03-01-2026-03-31.csv" in response["Content-Disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Labor;Bestellungen;bestellt → versandt, Median (Tage)")
    assert "Nachfertigungsquote;Nachfertigungsquote Passform;Nachfertigungsquote Material;" in lines[0]
    assert "Dreve;5;4.0;8.5;5.5;10.5;0.6667;1.0;0.25;0.5;0.25;1;2;1" in lines
    assert "Otoplastik Nord;7;;;;;;;;;;0;0;0" in lines


def test_staff_get_the_figures_of_their_own_branch_only(fixture_orders, labs, bob, mitte):
    params = {"from": "2026-03-01", "to": "2026-03-31"}
    assert api_client(bob).get(scorecard_url(labs[0], **params)).json()["orders"] == 1  # Nord's one order
    refused = api_client(bob).get(scorecard_url(labs[0], branch=mitte.pk, **params))
    assert refused.status_code == 400
    assert "Diese Filiale gibt es nicht." in refused.content.decode()
