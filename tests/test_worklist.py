"""The staff's start page, the open-orders worklist (``orders.views.order_list``): its counts,
filters, search, sorting, pages, branches, the scanned order number, the status colours, and a
number of queries that does not grow with the orders."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import Role
from otoorder.orders import choices, lifecycle
from otoorder.orders.choices import STATUS_CATEGORY, OrderStatus, StatusCategory, WorklistCount
from otoorder.orders.models import EarmouldOrder
from otoorder.orders.templatetags.order_tags import CATEGORY_CLASSES, status_badge
from tests import factories as f

pytestmark = pytest.mark.django_db
S = OrderStatus
W = WorklistCount
DAY = timedelta(days=1)
URL = "/bestellungen/"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def egger(mitte):
    return f.SupplierFactory(company=f.CompanyFactory(name="Egger"), name="Egger Otoplastik")


def one(txn, supplier, number, **fields):
    [order] = f.bulk_orders(txn, supplier, 1, prefix=number, **fields)
    return order


@pytest.fixture
def board(transaction_obj, dreve_supplier, egger, alice, carol, today):
    """One order in every count, and some that the worklist leaves out."""
    t, d = transaction_obj, dreve_supplier
    return {
        "failed": one(t, d, "FAIL", status=S.FAILED),
        "on_hold": one(t, d, "HOLD", status=S.ON_HOLD, eta=today + 5 * DAY),
        "queued": one(t, d, "QUEUE", status=S.QUEUED),
        "manual": one(t, egger, "MANUAL", status=S.AWAITING_MANUAL, prescriber=carol),
        "late": one(t, d, "LATE", status=S.CONFIRMED, eta=today - 3 * DAY, external_reference="LAB-4711"),
        "at_lab": one(t, egger, "LAB", status=S.IN_PRODUCTION, eta=today + 4 * DAY, date_required=today + 9 * DAY, prescriber=alice),
        "shipped": one(t, d, "SHIP", status=S.SHIPPED, eta=today + 2 * DAY, tracking_number="00340434161094042557"),
        "arrived": one(t, egger, "ARRIVED", status=S.SHIPPED, eta=today, tracking_number="1Z999AA10123456784"),
        "received": one(t, d, "RECV", status=S.RECEIVED, sides=("right",)),
        "fitted": one(t, d, "FIT", status=S.FITTED),
        "closed": one(t, d, "CLOSED", status=S.CLOSED),
        "cancelled": one(t, d, "CANCEL", status=S.CANCELLED),
    }


def listed(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.status_code
    return {order.number.split("-")[0] for order in response.context["page"].object_list}


def counts(response):
    return {count["key"]: count["n"] for count in response.context["counts"]}


# --- the categories ----------------------------------------------------------------------------


def test_every_status_has_one_category_and_attention_is_the_shared_set():
    assert set(STATUS_CATEGORY) == set(S.values)
    assert choices.statuses_of(StatusCategory.ATTENTION) == choices.NEEDS_ATTENTION
    assert choices.WORKLIST == choices.OPEN | {S.RECEIVED}
    # The worklist's statuses fall into the counts' categories; the finished ones do not.
    counted = set().union(*(choices.statuses_of(c) for c in (StatusCategory.ATTENTION, StatusCategory.ORDERING, StatusCategory.AT_LAB, StatusCategory.IN_TRANSIT, StatusCategory.TO_FIT)))
    assert choices.WORKLIST <= counted and counted - choices.WORKLIST == {S.DRAFT}
    finished = {s for s, targets in lifecycle.TRANSITIONS.items() if not targets}
    assert {STATUS_CATEGORY[s] for s in finished} == {StatusCategory.DONE, StatusCategory.CANCELLED}


def test_the_categories_follow_the_status_machine():
    """Nothing goes back from the lab to ordering, from shipped to the lab, from received to shipped."""
    order = [StatusCategory.ORDERING, StatusCategory.AT_LAB, StatusCategory.IN_TRANSIT, StatusCategory.TO_FIT, StatusCategory.DONE]
    for source, targets in lifecycle.TRANSITIONS.items():
        for target in targets:
            a, b = STATUS_CATEGORY[source], STATUS_CATEGORY[target]
            # A refused cancellation returns the order to where it was (lifecycle.CANCEL_RETURNS).
            if a in order and b in order and source not in choices.CANCELLING:
                assert order.index(b) >= order.index(a), (source, target)


def test_one_colour_per_category_with_the_status_written():
    for status in S.values:
        html = status_badge(status)
        assert CATEGORY_CLASSES[STATUS_CATEGORY[status]] in html and str(S(status).label) in html
    assert len(set(CATEGORY_CLASSES.values())) == len(CATEGORY_CLASSES)


def test_badges_have_the_same_colour_on_every_page(client_alice, board, customer):
    shipped = board["shipped"]
    expected = f'class="badge status-badge {CATEGORY_CLASSES[StatusCategory.IN_TRANSIT]}"'
    for url in (URL, reverse("transactions:customer_detail", args=[customer.pk]), reverse("orders:order_detail", args=[shipped.pk])):
        html = client_alice.get(url).content.decode()
        assert expected in html, url


# --- start page and counts ---------------------------------------------------------------------


def test_the_worklist_is_the_start_page(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": f.PASSWORD})
    assert response.status_code == 302 and response["Location"] == URL
    assert client.get("/")["Location"] == URL
    nav = client.get(URL).content.decode().split('class="navbar-nav me-auto"')[1]
    assert nav.index(f'href="{URL}"') < nav.index('href="/kunden/"')


def test_counts_by_what_needs_doing(client_alice, board):
    response = client_alice.get(URL)
    assert counts(response) == {
        W.ATTENTION: 3,  # failed, on hold, late
        W.ORDERING: 2,
        W.AT_LAB: 2,  # late, at lab
        W.IN_TRANSIT: 1,
        W.RECEIPT_DUE: 1,
        W.TO_FIT: 1,
    }
    html = response.content.decode()
    for key in W.values:
        assert f'data-count="{key}"' in html and f'data-testid="count-{key}"' in html


@pytest.mark.parametrize(
    "count, expected",
    [
        (W.ATTENTION, {"FAIL", "HOLD", "LATE"}),
        (W.ORDERING, {"QUEUE", "MANUAL"}),
        (W.AT_LAB, {"LATE", "LAB"}),
        (W.IN_TRANSIT, {"SHIP"}),
        (W.RECEIPT_DUE, {"ARRIVED"}),
        (W.TO_FIT, {"RECV"}),
    ],
)
def test_a_count_filters_the_table(client_alice, board, count, expected):
    assert listed(client_alice, count=count) == expected
    html = client_alice.get(URL, {"count": count}).content.decode()
    assert f'href="?count={count}" data-count="{count}" aria-current="true"' in html


# --- filters -----------------------------------------------------------------------------------


OPEN_ONES = {"FAIL", "HOLD", "QUEUE", "MANUAL", "LATE", "LAB", "SHIP", "ARRIVED", "RECV"}


def test_filters_combine(client_alice, board, egger, carol, alice):
    assert listed(client_alice) == OPEN_ONES
    assert listed(client_alice, status="open") == OPEN_ONES
    assert listed(client_alice, status="all") == OPEN_ONES | {"FIT", "CLOSED", "CANCEL"}
    assert listed(client_alice, status=["failed", "shipped", "closed"]) == {"FAIL", "SHIP", "ARRIVED", "CLOSED"}
    assert listed(client_alice, status=["open", "closed"]) == OPEN_ONES | {"CLOSED"}
    assert listed(client_alice, supplier=str(egger.pk)) == {"MANUAL", "LAB", "ARRIVED"}
    assert listed(client_alice, supplier=str(egger.pk), status="shipped") == {"ARRIVED"}
    assert listed(client_alice, overdue="on") == {"LATE"}
    assert listed(client_alice, needs_attention="on") == {"FAIL", "HOLD", "LATE"}
    assert listed(client_alice, needs_attention="on", status="failed") == {"FAIL"}
    assert listed(client_alice, prescriber=str(carol.pk)) == {"MANUAL"}
    assert listed(client_alice, prescriber=str(alice.pk), supplier=str(egger.pk), count="at_lab") == {"LAB"}
    assert listed(client_alice, count="at_lab", overdue="on") == {"LATE"}


def test_the_prescriber_choices_are_the_branchs_people(client_alice, board, bob, carol):
    field = client_alice.get(URL).context["filter_form"].fields["prescriber"]
    people = set(field.queryset)
    assert carol in people and bob not in people
    assert listed(client_alice, prescriber=str(bob.pk)) == OPEN_ONES  # not offered: left out


@pytest.mark.parametrize(
    "q, expected",
    [
        ("late-0000", {"LATE"}),  # order number, in part
        ("lab-4711", {"LATE"}),  # the lab's order number
        ("0034043416", {"SHIP"}),  # tracking number
        ("1z999", {"ARRIVED"}),
        ("mustermann", OPEN_ONES),  # customer name
        ("Erika Mustermann", OPEN_ONES),
        ("niemand", set()),
    ],
)
def test_search_fields(client_alice, board, q, expected):
    assert listed(client_alice, q=q) == expected


def test_search_by_customer_number(client_alice, board, customer, mitte, transaction_obj, dreve_supplier, template, alice):
    other = f.CustomerFactory(branch=mitte, first_name="Hans", last_name="Meier")
    one(f.TransactionFactory(customer=other, template=template, started_by=alice), dreve_supplier, "MEIER", status=S.ORDERED)
    assert listed(client_alice, q=str(other.customer_number)) == {"MEIER"}
    assert "MEIER" not in listed(client_alice, q=str(customer.customer_number))


def test_search_as_you_type_answers_with_the_results_region(client_alice, board):
    response = client_alice.get(URL, {"q": "lab-4711"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="worklist-filters"' not in html
    assert html.startswith('<div id="live-region"') and "LATE-000001" in html and "FAIL-000001" not in html
    # The region that replaces the page's follows the new search.
    assert "q=lab-4711" in html.split(">", 1)[0]


# --- the scanned label -------------------------------------------------------------------------


def test_a_scanned_order_number_opens_the_order(client_alice, board):
    late = board["late"]
    for scanned in (late.number, late.number.lower(), f"  {late.number} "):
        response = client_alice.get(URL, {"q": scanned})
        assert response.status_code == 302 and response["Location"] == reverse("orders:order_detail", args=[late.pk])
    # While typing (htmx) the table narrows and nothing opens.
    typing = client_alice.get(URL, {"q": late.number}, headers={"HX-Request": "true"})
    assert typing.status_code == 200 and late.number in typing.content.decode()
    # A finished order opens too (its label can come back later).
    assert client_alice.get(URL, {"q": board["closed"].number}).status_code == 302


def test_a_scanned_number_of_another_branch_opens_nothing(client, bob, board):
    client.force_login(bob)
    response = client.get(URL, {"q": board["late"].number})
    assert response.status_code == 200 and list(response.context["page"].object_list) == []


# --- sorting and pages -------------------------------------------------------------------------


def numbers(client, **params):
    return [order.number.split("-")[0] for order in client.get(URL, params).context["page"].object_list]


def full_numbers(client, **params):
    return [order.number for order in client.get(URL, params).context["page"].object_list]


def test_sortable_columns(client_alice, board):
    assert numbers(client_alice, sort="number")[:3] == ["ARRIVED", "FAIL", "HOLD"]
    assert numbers(client_alice, sort="-number")[:2] == ["SHIP", "RECV"]
    # The status column follows the lifecycle, not the alphabet.
    statuses = [S(o.status) for o in client_alice.get(URL, {"sort": "status"}).context["page"].object_list]
    assert statuses == sorted(statuses, key=list(S).index)
    assert numbers(client_alice, sort="eta")[:3] == ["LATE", "ARRIVED", "SHIP"]
    assert numbers(client_alice, sort="-days_late")[0] == "LATE"
    assert numbers(client_alice, sort="date_required")[0] == "LAB"
    by_supplier = [o.supplier.company.name for o in client_alice.get(URL, {"sort": "-supplier"}).context["page"].object_list]
    assert by_supplier == sorted(by_supplier, reverse=True)


def test_sort_links_carry_the_filters_and_aria_sort(client_alice, board):
    html = client_alice.get(URL, {"sort": "eta", "overdue": "on", "page": "1"}).content.decode()
    assert '<th scope="col" aria-sort="ascending"><a class="sort-link" href="?overdue=on&amp;sort=-eta">' in html
    assert '<a class="sort-link" href="?overdue=on&amp;sort=number">' in html
    assert html.count("aria-sort=") == 1
    html = client_alice.get(URL, {"sort": "-eta"}).content.decode()
    assert 'aria-sort="descending"><a class="sort-link" href="?sort=eta">' in html


def test_pages_are_bounded_and_keep_filters(client_alice, transaction_obj, dreve_supplier):
    f.bulk_orders(transaction_obj, dreve_supplier, 120, status=S.ORDERED)
    first = client_alice.get(URL, {"status": "ordered", "sort": "number"})
    assert len(first.context["page"].object_list) == 50
    assert "status=ordered&amp;sort=number&amp;page=2" in first.content.decode()
    last = client_alice.get(URL, {"status": "ordered", "sort": "number", "page": "3"})
    assert len(last.context["page"].object_list) == 20
    pages = [full_numbers(client_alice, status="ordered", sort="number", page=str(n)) for n in (1, 2, 3)]
    assert len(set(sum(pages, []))) == 120
    assert len(client_alice.get(URL, {"page": "999999"}).context["page"].object_list) == 20


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nonsense"},
        {"status": ["open", "x" * 500]},
        {"count": "everything"},
        {"sort": "password"},
        {"sort": "-" * 40},
        {"page": "-1"},
        {"page": "9" * 50},
        {"supplier": "abc"},
        {"supplier": "999999999999999999999"},
        {"prescriber": "-5"},
        {"branch": "not-a-uuid"},
        {"branch": "00000000-0000-0000-0000-000000000000"},
        {"q": "x" * 5000},
        {"q": "\x00"},
        {"overdue": "maybe", "needs_attention": ["1", "2"]},
    ],
)
def test_bad_query_params_answer_without_error(client_alice, board, params):
    response = client_alice.get(URL, params)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) <= 50


# --- branches ----------------------------------------------------------------------------------


@pytest.fixture
def nord_order(nord, template, dreve_supplier, bob):
    customer = f.CustomerFactory(branch=nord, first_name="Otto", last_name="Nordmann")
    txn = f.TransactionFactory(customer=customer, template=template, started_by=bob)
    return one(txn, dreve_supplier, "NORD", status=S.FAILED)


def test_staff_see_only_their_branch(client, bob, board, nord_order, mitte):
    client.force_login(bob)
    response = client.get(URL)
    assert listed(client) == {"NORD"} and counts(response)[W.ATTENTION] == 1
    assert 'id="id_branch"' not in response.content.decode()
    # Another branch's id is no choice of theirs: left out, still only their own.
    assert listed(client, branch=str(mitte.pk)) == {"NORD"}
    assert listed(client, q="mustermann") == set()


def test_a_chain_admin_chooses_a_branch_or_all(client, dave, board, nord_order, mitte, nord):
    client.force_login(dave)
    response = client.get(URL)
    html = response.content.decode()
    assert 'id="id_branch"' in html and "alle Filialen" in html
    assert listed(client) == OPEN_ONES | {"NORD"} and counts(response)[W.ATTENTION] == 4
    only_nord = client.get(URL, {"branch": str(nord.pk)})
    assert listed(client, branch=str(nord.pk)) == {"NORD"} and counts(only_nord)[W.ATTENTION] == 1
    assert f'href="?branch={nord.pk}&amp;count=attention"' in only_nord.content.decode()
    assert listed(client, branch=str(mitte.pk)) == OPEN_ONES


def test_a_chain_admin_of_another_chain_sees_nothing_of_ours(client, board):
    stranger = f.UserFactory(username="erwin")
    f.MembershipFactory(user=stranger, chain=f.ChainFactory(name="Anderswo"), branch=None, role=Role.CHAIN_ADMIN)
    client.force_login(stranger)
    assert listed(client) == set()


# --- queries -----------------------------------------------------------------------------------


def queries_for(client, params):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, params).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("user", ["alice", "dave"])
def test_queries_do_not_grow_from_10_to_500_orders(client, user, transaction_obj, dreve_supplier, egger, alice, dave, today):
    client.force_login({"alice": alice, "dave": dave}[user])
    statuses = [S.FAILED, S.ORDERED, S.SHIPPED, S.RECEIVED, S.QUEUED]

    def add(n, start):
        for i, status in enumerate(statuses):
            f.bulk_orders(transaction_obj, dreve_supplier if i % 2 else egger, n // len(statuses), status=status,
                          eta=today - DAY, prefix=f"Q{i}", start=start)

    add(10, 1)
    params = {"sort": "days_late"}
    small = queries_for(client, params)
    add(490, 100)
    assert EarmouldOrder.objects.count() == 500
    assert queries_for(client, params) == small
    assert queries_for(client, {"q": "mustermann", "status": ["open", "closed"], "overdue": "on"}) <= small + 1
