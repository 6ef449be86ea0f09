"""Live status of the pages that show orders (order page, order list, customer page).

A page that shows an open order (``choices.OPEN``) asks its own URL again every few seconds
with ``?live=<version>``. The version is a short hash of what the page shows that can change
by itself, read in **one** SQL statement on indexed columns (the order's row by primary key
with the number of its events, the rows of a list page, the orders of a customer):

* unchanged → ``304 Not Modified`` with no body, and no other query than that one (besides
  the session and the user of the login);
* changed → the page's main content region (``<div id="live-region">``) rendered again with
  the new version in its polling URL; htmx swaps it in, so every panel inside follows without
  the page knowing its panels.

Who may see what is the page's own rule (``visible_to(user)``): the version of an order or a
customer of another branch is ``None`` and the page answers 404 as it does without ``live``.
A page stops polling when it no longer shows an open order (the swapped-in region carries no
polling attributes). The intervals come from ``settings.OTOORDER_LIVE``; ``static/js/otoorder.js``
slows the checks of a hidden tab down and never swaps while someone types in the region.
"""

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotModified

from .choices import IN_FLIGHT, OPEN
from .models import EarmouldOrder, OrderEvent

#: The query parameter of a status check: the version the page shows.
PARAM = "live"
#: A version is a 20-character hex digest; anything longer is no version of ours.
VERSION_LENGTH = 20
#: Orders per page of the order list (the list view's paginator uses the same number).
LIST_PAGE_SIZE = 50
#: Highest page number a status check reads (a bound on the offset of its query).
MAX_PAGE = 100_000
#: The header in which a page's status check tells whether its tab is hidden.
TAB_HEADER = "X-Otoorder-Tab"


@dataclass(frozen=True)
class LiveState:
    """What a status check found: the version and whether the page should keep polling."""

    version: str
    active: bool
    in_flight: bool = False
    page: int = 1


def _digest(rows):
    text = "\n".join("|".join("" if value is None else str(value) for value in row) for row in rows)
    return hashlib.blake2b(text.encode(), digest_size=VERSION_LENGTH // 2).hexdigest()


def seen_version(request):
    """The version the polling page shows, or ``None`` when the request is no status check."""
    value = request.GET.get(PARAM)
    if value is None:
        return None
    return value[:VERSION_LENGTH + 1]


def unchanged(request, state):
    """True when the request is a status check and the page already shows ``state``."""
    seen = seen_version(request)
    return seen is not None and state is not None and seen == state.version


def in_hidden_tab(request):
    """True for a status check made by a page in a hidden browser tab (``static/js/otoorder.js``
    says so in a header): what it brings is not seen yet (lab messages stay unread)."""
    return seen_version(request) is not None and request.headers.get(TAB_HEADER) == "hidden"


def not_modified():
    response = HttpResponseNotModified()
    response["Cache-Control"] = "private, no-store"
    return response


def _count(model):
    return Coalesce(
        Subquery(
            model.objects.filter(order=OuterRef("pk")).order_by().values("order").annotate(n=Count("pk")).values("n")[:1]
        ),
        0,
    )


def order_state(user, pk):
    """The live state of one order as the order page shows it, or ``None`` when ``user`` may
    not see it. One statement: the order's row by primary key (inside the access rule's
    subquery) with the number of its events (counted over the index of their order column).
    Whatever the page shows that can change writes an event or saves the order: a status, a
    lab's report, a sending attempt (the worker logs an event with each), an attachment."""
    rows = list(
        EarmouldOrder.objects.visible_to(user)
        .filter(pk=pk)
        .order_by()
        .annotate(live_events=_count(OrderEvent))
        .values_list("updated_at", "status", "live_events")
    )
    if not rows:
        return None
    [row] = rows
    status = row[1]
    return LiveState(version=_digest([row]), active=status in OPEN, in_flight=status in IN_FLIGHT)


def page_number(value):
    """The page number of a status check of a list (what ``Paginator.get_page`` would start from)."""
    try:
        number = int(str(value)[:7])
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def list_state(orders, number):
    """The live state of one page of an order list: ``orders`` is the list's filtered and
    ordered queryset, ``number`` the page. One statement: the page's ids, versions and
    statuses (a new order on the page, a changed one, one that left the filter all change it)."""
    start = (number - 1) * LIST_PAGE_SIZE
    rows = list(orders.values_list("pk", "updated_at", "status")[start : start + LIST_PAGE_SIZE])
    return LiveState(version=_digest(rows), active=any(status in OPEN for _, _, status in rows), page=number)


def customer_state(customers, pk):
    """The live state of a customer page, or ``None`` when the customer is not among
    ``customers`` (the caller's ``visible_to(user)`` queryset). One statement: the customer
    joined with its orders (their order list and the ear history show their status)."""
    rows = list(
        customers.filter(pk=pk).order_by("orders__pk").values_list("orders__pk", "orders__updated_at", "orders__status")
    )
    if not rows:
        return None
    return LiveState(version=_digest(rows), active=any(status in OPEN for _, _, status in rows))


def _interval_ms(seconds):
    return f"{max(int(seconds * 1000), 1000)}ms"


def context(request, state, *, params=None):
    """The template context of a page that can follow itself.

    ``live_page`` makes the base template wrap the content in the live region; ``live`` holds
    its polling attributes (``None`` once the page shows no open order); ``base_template`` is
    the region alone for a status check and the whole page otherwise.
    """
    checking = seen_version(request) is not None
    live = None
    if state is not None and state.active:
        query = dict(params or {})
        query[PARAM] = state.version
        config = settings.OTOORDER_LIVE
        interval = config["IN_FLIGHT_INTERVAL"] if state.in_flight else config["INTERVAL"]
        live = {
            "url": f"{request.path}?{urlencode(query, doseq=True)}",
            "interval": _interval_ms(interval),
            "hidden_interval": str(int(config["HIDDEN_INTERVAL"] * 1000)),
            "in_flight": state.in_flight,
        }
    return {
        "live_page": True,
        "live": live,
        "base_template": "live_region.html" if checking else "base.html",
    }


def respond(response):
    """A status check's answer is never cached (the version in its URL is the cache key)."""
    response["Cache-Control"] = "private, no-store"
    return response
