"""Staff views of earmould orders: list, detail with live status, actions and the PDF.

Every queryset is scoped with ``visible_to(user)`` (``branches.access``); the actions call the
order services and turn their refusals into messages.
"""

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from branches.models import Branch
from otoorder.backends.pdf import render_order_form

from . import cancellation, handoff, lab_messages, lifecycle, live, parcels, queries, services, warranty
from .choices import CANCELLING, STATUS_CATEGORY, OrderStatus, StatusCategory, WorklistCount
from .documents import build_document
from .forms import CancelForm, CancelReportForm, ConfirmManualForm, MessageForm, OrderFilterForm, QuestionForm
from .lifecycle_forms import REMAKE_REASON_KEY, CloseForm, FitForm, ReceiveForm, RemakeForm, SerialCorrectionForm
from .models import EarmouldOrder, OrderItem, ParcelItem
from .paging import BoundedPaginator
from .queries import ALL_FILTER, OPEN_FILTER

logger = logging.getLogger(__name__)


def _orders(user):
    return EarmouldOrder.objects.visible_to(user).select_related(
        "customer", "branch", "company", "supplier__company", "interface_definition"
    )


def _get_order(request, pk):
    return get_object_or_404(_orders(request.user), pk=pk)


#: The worklist's sortable columns in the order of the table (``queries.SORTS``).
SORT_COLUMNS = ("number", "customer", "supplier", "status", "date_required", "eta", "days_late")


def _sort_links(request, current):
    """Per sortable column: the link that sorts by it (ascending first, again: descending)
    and its ``aria-sort`` when the table is sorted by it. The filters stay, the page resets."""
    kept = request.GET.copy()
    for name in ("page", "sort", live.PARAM):
        kept.pop(name, None)
    links = {}
    for key in SORT_COLUMNS:
        kept["sort"] = f"-{key}" if current == key else key
        aria = {key: "ascending", f"-{key}": "descending"}.get(current, "")
        links[key] = {"href": f"?{kept.urlencode()}", "aria_sort": aria}
    return links


def _count_links(request, form):
    """The worklist's counts link to the table narrowed to them, in the chosen branch."""
    branch = form.cleaned_data.get("branch")
    base = {"branch": branch.pk} if branch else {}
    current = form.cleaned_data.get("count", "")
    return [
        {"key": key, "label": label, "href": "?" + urlencode({**base, "count": key}), "current": key == current}
        for key, label in WorklistCount.choices
    ]


def _scanned_order(request, visible, form):
    """A search submitted as a whole (Enter, as a hand scanner sends a label's QR code) that
    is exactly one visible order's number opens that order."""
    text = form.cleaned_data.get("q", "")
    if not text or request.headers.get("HX-Request") or live.seen_version(request) is not None:
        return None
    matches = list(visible.filter(number__iexact=text).values_list("pk", flat=True)[:2])
    return matches[0] if len(matches) == 1 else None


@login_required
@require_GET
def order_list(request):
    """The staff's start page: the worklist of open orders with its counts, filters, search
    as you type (htmx: the results region alone), sorting and pages; it follows itself (``live``)."""
    visible = _orders(request.user)
    branches = Branch.objects.visible_to(request.user).order_by("name")
    form = OrderFilterForm(request.GET, orders=visible, branches=branches, people=branches.people())
    filters = form.filters()
    scanned = _scanned_order(request, visible, form)
    if scanned is not None:
        return redirect("orders:order_detail", pk=scanned)
    sort = form.sort_key()
    orders = queries.sort_orders(
        queries.annotate_list(queries.filter_orders(visible, **filters)).prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.only("order_id", "side")),
            # "Abdruck unterwegs": impressions in an open parcel that the lab has not reported yet.
            Prefetch(
                "parcel_items",
                queryset=ParcelItem.objects.filter(
                    parcel__closed_at__isnull=True, impression__lab_received_at__isnull=True
                ).select_related("parcel"),
                to_attr="impressions_on_the_way",
            ),
        ),
        sort,
    )
    # Live status: the page's rows are read first (one query); a check that finds them as
    # the page shows them ends here with 304.
    state = live.list_state(orders, live.page_number(request.GET.get("page")))
    if live.unchanged(request, state):
        return live.not_modified()
    page = BoundedPaginator(orders, live.LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    if page.number != state.page:
        state = live.list_state(orders, page.number)
    kept = request.GET.copy()
    kept.pop("page", None)
    kept.pop(live.PARAM, None)
    params = {name: request.GET.getlist(name) for name in form.fields if name in request.GET}
    branch = filters["branch"]
    counted = visible.filter(branch=branch) if branch is not None else visible
    branch_list = list(branches)
    context = {
        "filter_form": form,
        "page": page,
        "filter_query": kept.urlencode(),
        "counts": [{**link, "n": n} for link, n in zip(_count_links(request, form), queries.worklist_counts(counted).values())],
        "sort_links": _sort_links(request, sort),
        "show_branches": len(branch_list) > 1,
        "status_groups": _status_groups(form),
        **live.context(request, state, params={**params, "page": page.number}),
    }
    # The results region alone for a status check and for the search as you type.
    partial = live.seen_version(request) is not None or request.headers.get("HX-Request")
    context["live_page"] = False
    template = "orders/_worklist_region.html" if partial else "orders/order_list.html"
    return live.respond(render(request, template, context))


def _status_groups(form):
    """The status checkboxes grouped by their category (``choices.STATUS_CATEGORY``), after
    "alle offenen" and "alle, auch erledigte"."""
    boxes = {box.data["value"]: box for box in form["status"]}
    groups = [("", [boxes[OPEN_FILTER], boxes[ALL_FILTER]])]
    for category, label in StatusCategory.choices:
        groups.append((label, [boxes[status] for status in OrderStatus.values if STATUS_CATEGORY[status] == category]))
    return groups


SIDE_TITLES = {"right": gettext_lazy("Rechtes Ohr"), "left": gettext_lazy("Linkes Ohr")}


def lab_property_groups(order, items=None):
    """The lab's confirmed properties per ear as ``[(side, title, [LabProperty])]``, right
    first: our field labels and choice labels instead of the lab's keys and codes, and what
    the lab confirmed differently from what we ordered marked as such."""
    properties = order.lab_properties if isinstance(order.lab_properties, dict) else {}
    ordered = {item.side: item for item in (items if items is not None else _items(order))}
    sides = [side for side in SIDE_TITLES if side in properties] + sorted(set(properties) - set(SIDE_TITLES))
    return [
        (side, SIDE_TITLES.get(side, side), [LabProperty.of(key, value, ordered.get(side)) for key, value in properties[side].items()])
        for side in sides
        if isinstance(properties[side], dict)
    ]


@dataclass(frozen=True)
class LabProperty:
    """One property the lab confirmed: our label, the value as we name it, and what we ordered
    when the lab's value differs from it (None when it matches or cannot be compared)."""

    label: str
    value: str
    ordered_value: str | None = None

    @property
    def differs(self):
        return self.ordered_value is not None

    @classmethod
    def of(cls, key, value, item):
        try:
            field = OrderItem._meta.get_field(str(key))
        except FieldDoesNotExist:
            # A property of the lab's own (e.g. its form name): its key, readable.
            return cls(str(key).replace("_", " ").capitalize(), _display_value(None, value))
        shown = _display_value(field, value)
        ours = getattr(item, field.attname, None) if item is not None else None
        if ours in (None, "") or isinstance(ours, bool) and not ours:
            return cls(str(field.verbose_name), shown)
        same = _same_value(value, ours) or _same_value(value, _display_value(field, ours))
        return cls(str(field.verbose_name), shown, None if same else _display_value(field, ours))


def _display_value(field, value):
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("ja") if value else _("nein")
    choices = {str(code): label for code, label in field.flatchoices} if field is not None and field.choices else {}
    return str(choices.get(str(value), value))


def _normalised(value):
    text = str(value).strip().casefold().replace(",", ".")
    try:
        return Decimal(text).normalize()
    except (InvalidOperation, ValueError):
        return "".join(char for char in text if char.isalnum())


def _same_value(reported, ours):
    return _normalised(reported) == _normalised(ours)


def _panel_context(order, items=None):
    return {
        "order": order,
        "lab_property_groups": lab_property_groups(order, items),
        # Remakes and modifications of this order (the other direction of ``original_order``).
        "follow_ups": order.follow_ups.order_by("created_at").only("pk", "number", "order_type", "status"),
        "events": order.events.select_related("actor"),
        "attempts": order.attempts.all(),
        "confirm_form": ConfirmManualForm(),
        "lab_charge_flagged": warranty.lab_charge_flagged(order),
    }


def _cancellation_context(order, **bound):
    """The cancellation panel (``_cancellation.html``): the button, the request under way, the
    manual report with the lab's contacts, the lab's refusal."""
    pending = cancellation.pending(order)
    parked = cancellation.is_parked(pending)
    return {
        "can_cancel": cancellation.can_cancel(order) and pending is None,
        "cancels_at_once": cancellation.cancels_at_once(order),
        "cancel_form": bound.get("cancel_form") or CancelForm(),
        "pending_cancellation": pending,
        "cancellation_parked": parked,
        "last_cancellation": order.cancellations.order_by("-sequence").first(),
        "can_report_cancellation": pending is not None and not parked and order.status in CANCELLING,
        "report_form": bound.get("report_form") or CancelReportForm(),
    }


def _messages_context(order, **bound):
    """The message thread with the lab (``_messages.html``): questions, answers, the forms."""
    return {
        "thread": list(lab_messages.thread(order)),
        "can_answer": lab_messages.can_answer(order) and order.status not in ("cancelled", "closed"),
        "can_record_question": order.status in lab_messages.QUESTION_STATUSES,
        "answer_form": bound.get("answer_form") or MessageForm(),
        "question_form": bound.get("question_form") or QuestionForm(field_id="id_question_text"),
    }


def _lifecycle_context(order, items, **bound):
    """The receipt, fitting and closing forms that apply to the order's status."""
    return {
        "can_receive": lifecycle.can_receive(order),
        "can_fit": lifecycle.can_fit(order),
        "can_close": lifecycle.can_close(order),
        "needs_close_reason": lifecycle.needs_close_reason(order),
        "can_remake": order.status in services.SENT_STATUSES,
        "can_correct_serial": lifecycle.can_correct_serial(order),
        "receive_form": bound.get("receive_form") or ReceiveForm(sides=[item.side for item in items]),
        "serial_form": bound.get("serial_form") or SerialCorrectionForm(sides=[item.side for item in items]),
        "fit_form": bound.get("fit_form") or FitForm(),
        "close_form": bound.get("close_form") or CloseForm(),
        "remake_form": bound.get("remake_form") or RemakeForm(),
    }


def _items(order):
    # Right ear first: the model's ordering, as in the order form and the customer's history.
    return list(order.items.select_related("impression"))


def _render_detail(request, order, status=200, live_context=None, **bound):
    items = _items(order)
    context = {
        **_panel_context(order, items),
        "items": items,
        "impression_parcels": parcels.order_parcels(order),
        **_lifecycle_context(order, items, **bound),
        **_cancellation_context(order, **bound),
        **_messages_context(order, **bound),
        **(live_context or {}),
    }
    return render(request, "orders/order_detail.html", context, status=status)


@login_required
@require_GET
def order_detail(request, pk):
    """The order page; with ``?live=<version>`` its status check (``live``): 304 while the
    order is as the page shows it, else the page's content region with everything in it."""
    state = live.order_state(request.user, pk)
    if state is None:
        raise Http404
    if live.unchanged(request, state):
        return live.not_modified()
    order = _get_order(request, pk)
    # Staff of the branch see the order (the page, or its region after a change in a tab
    # that is not hidden): the lab's messages are read.
    if not live.in_hidden_tab(request):
        lab_messages.mark_read(order, request.user)
    return live.respond(_render_detail(request, order, live_context=live.context(request, state)))


def _lifecycle_action(request, order, form_name, form, action, success_message):
    """Run a lifecycle step; a refusal re-renders the page with the input and the message."""
    return _form_action(request, order, form_name, form, lambda data: action(form), success_message)


@login_required
@require_POST
def order_receive(request, pk):
    order = _get_order(request, pk)
    form = ReceiveForm(request.POST, sides=list(order.items.values_list("side", flat=True)))
    return _lifecycle_action(
        request,
        order,
        "receive_form",
        form,
        lambda f: lifecycle.receive(order, user=request.user, serials=f.serials(), without_serial=f.without_serial()),
        _("Wareneingang für %(number)s gebucht."),
    )


@login_required
@require_POST
def order_serial(request, pk):
    """A serial number added or corrected after the goods receipt."""
    order = _get_order(request, pk)
    form = SerialCorrectionForm(request.POST, sides=list(order.items.values_list("side", flat=True)))
    return _lifecycle_action(
        request,
        order,
        "serial_form",
        form,
        lambda f: lifecycle.correct_serial(
            order, user=request.user, side=f.cleaned_data["side"], serial=f.cleaned_data["serial"]
        ),
        _("Seriennummer von %(number)s gespeichert."),
    )


@login_required
@require_POST
def order_fit(request, pk):
    order = _get_order(request, pk)
    return _lifecycle_action(
        request,
        order,
        "fit_form",
        FitForm(request.POST),
        lambda f: lifecycle.fit(
            order, user=request.user, fitted_on=f.cleaned_data["fitted_on"], warranty_months=f.cleaned_data["warranty_months"]
        ),
        _("Anpassung für %(number)s gespeichert."),
    )


@login_required
@require_POST
def order_close(request, pk):
    order = _get_order(request, pk)
    return _lifecycle_action(
        request,
        order,
        "close_form",
        CloseForm(request.POST),
        lambda f: lifecycle.close(order, user=request.user, reason=f.cleaned_data["reason"]),
        _("Bestellung %(number)s wurde abgeschlossen."),
    )


@login_required
@require_POST
def order_remake(request, pk):
    """„Reklamation“: the order form as a remake linked to this order, with the reason typed
    beside the button. Nothing is created until that form is submitted."""
    order = _get_order(request, pk)
    if order.status not in services.SENT_STATUSES:
        messages.error(request, _("Eine Reklamation ist erst möglich, wenn die Bestellung beim Labor ist."))
        return redirect("orders:order_detail", pk=order.pk)
    form = RemakeForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, order, status=400, remake_form=form)
    # The reason waits in the session, not in the URL (it may describe the customer's ear).
    request.session[REMAKE_REASON_KEY % order.pk] = form.cleaned_data["reason"]
    logger.info("remake of order %s opened by user %s", order.pk, request.user.pk)
    url = reverse("transactions:follow_up_order", kwargs={"pk": order.customer_id})
    # The order form's one-time token in the address: browser back returns to the same one.
    return redirect(f"{url}?remake={order.pk}&token={uuid.uuid4()}")


def _run_action(request, action, success_message):
    """Call a service action on a visible order; refusals become an error message."""
    order = _get_order(request, request.resolver_match.kwargs["pk"])
    try:
        order = action(order)
    except lifecycle.InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        logger.info("order %s: %s by user %s", order.pk, action.__name__, request.user.pk)
        messages.success(request, success_message % {"number": order.number})
    return redirect("orders:order_detail", pk=order.pk)


@login_required
@require_POST
def order_resend(request, pk):
    def resend(order):
        return services.resend(order, user=request.user)

    return _run_action(request, resend, _("Bestellung %(number)s wird erneut gesendet."))


@login_required
@require_POST
def order_confirm(request, pk):
    form = ConfirmManualForm(request.POST)
    if not form.is_valid():
        order = _get_order(request, pk)
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("orders:order_detail", pk=order.pk)

    def confirm_manual_order(order):
        return services.confirm_manual_order(order, user=request.user, lab_reference=form.cleaned_data["lab_reference"])

    return _run_action(request, confirm_manual_order, _("Bestellung %(number)s ist als bestellt bestätigt."))


def _form_action(request, order, form_name, form, action, success_message):
    """A form on the order page: the service's ValidationError goes back to the form's fields,
    its refusal (InvalidTransition) becomes a message."""
    if form.is_valid():
        try:
            order = action(form.cleaned_data)
        except lifecycle.InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("orders:order_detail", pk=order.pk)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            logger.info("order %s: %s by user %s", order.pk, form_name, request.user.pk)
            if callable(success_message):
                success_message = success_message(order)
            messages.success(request, success_message % {"number": order.number})
            return redirect("orders:order_detail", pk=order.pk)
    return _render_detail(request, order, status=400, **{form_name: form})


@login_required
@require_POST
def order_cancel(request, pk):
    """„Stornieren“: at once before the lab has the order, else a request to the lab."""
    order = _get_order(request, pk)
    at_once = cancellation.cancels_at_once(order)

    def cancel(data):
        reason = data["reason"] or (_("Storniert durch Mitarbeiter.") if at_once else "")
        return services.cancel(order, user=request.user, reason=reason)

    return _form_action(request, order, "cancel_form", CancelForm(request.POST), cancel, _cancel_message)


def _cancel_message(order):
    if order.status == "cancelled":
        return _("Bestellung %(number)s wurde storniert.")
    if order.status == "cancel_requested":
        return _("Die Stornierung von %(number)s wurde beim Labor angefragt; die Antwort des Labors erscheint hier.")
    if order.status == "cancel_to_report":
        return _("Bitte die Stornierung von %(number)s beim Labor melden (Kontakt siehe unten) und hier erfassen.")
    return _("Die Stornierung von %(number)s ist vorgemerkt: sie folgt, sobald der Versand abgeschlossen ist.")


@login_required
@require_POST
def order_cancel_report(request, pk):
    """Staff reported the cancellation to the lab: who, to whom, when, and the lab's answer."""
    return _service_form(
        request,
        pk,
        "report_form",
        CancelReportForm(request.POST),
        cancellation.report,
        _("Meldung der Stornierung von %(number)s gespeichert."),
    )


def _service_form(request, pk, form_name, form, record, success_message):
    """A form whose cleaned data are the keyword arguments of ``record(order, user=…)``."""
    order = _get_order(request, pk)

    def act(data):
        record(order, user=request.user, **data)
        return order

    return _form_action(request, order, form_name, form, act, success_message)


@login_required
@require_POST
def order_message(request, pk):
    """Staff's answer to the lab's question (sent through the interface or by e-mail)."""
    return _service_form(
        request,
        pk,
        "answer_form",
        MessageForm(request.POST),
        lab_messages.answer,
        _("Antwort zu %(number)s gespeichert."),
    )


@login_required
@require_POST
def order_question(request, pk):
    """A question the lab asked by phone or e-mail: recorded in the thread, the order on hold."""
    return _service_form(
        request,
        pk,
        "question_form",
        QuestionForm(request.POST, field_id="id_question_text"),
        lab_messages.record_staff_question,
        _("Rückfrage des Labors zu %(number)s erfasst."),
    )


@login_required
@require_POST
def portal_handoff(request, pk):
    """„Im Portal fortsetzen“: redirect to the lab's portal with a fresh signed hand-off."""
    order = _get_order(request, pk)
    try:
        url = handoff.handoff_url(order, absolute_uri=request.build_absolute_uri)
    except handoff.HandoffRefused as exc:
        messages.error(request, exc.message)
        return redirect("orders:order_detail", pk=order.pk)
    logger.info("order %s handed off to the portal by user %s", order.pk, request.user.pk)
    return HttpResponseRedirect(url)


@login_required
@require_GET
def order_pdf(request, pk):
    order = _get_order(request, pk)
    pdf = render_order_form(build_document(order))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="Bestellformular-{order.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
