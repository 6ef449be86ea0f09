"""Staff views of earmould orders: list, detail with live status, actions and the PDF.

Every queryset is scoped with ``visible_to(user)`` (``branches.access``); the actions call the
order services and turn their refusals into messages.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from otoorder.backends.pdf import render_order_form

from . import handoff, lifecycle, queries, services
from .choices import OrderStatus
from .documents import build_document
from .forms import CancelForm, OrderFilterForm
from .lifecycle import TRANSITIONS
from .lifecycle_forms import CloseForm, FitForm, ReceiveForm
from .models import EarmouldOrder

logger = logging.getLogger(__name__)


def _orders(user):
    return EarmouldOrder.objects.visible_to(user).select_related(
        "customer", "branch", "company", "supplier__company", "interface_definition"
    )


def _get_order(request, pk):
    return get_object_or_404(_orders(request.user), pk=pk)


def can_cancel(order):
    return OrderStatus.CANCELLED in TRANSITIONS.get(OrderStatus(order.status), set())


@login_required
@require_GET
def order_list(request):
    visible = _orders(request.user)
    form = OrderFilterForm(request.GET, orders=visible)
    orders = queries.annotate_list(queries.filter_orders(visible, **form.filters())).order_by("-created_at")
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(request, "orders/order_list.html", {"filter_form": form, "page": page, "filter_query": kept.urlencode()})


SIDE_TITLES = {"right": gettext_lazy("Rechtes Ohr"), "left": gettext_lazy("Linkes Ohr")}


def lab_property_groups(order):
    """The lab's confirmed properties per ear as ``[(side, title, [(name, value)])]``, right first."""
    properties = order.lab_properties if isinstance(order.lab_properties, dict) else {}
    sides = [side for side in SIDE_TITLES if side in properties] + sorted(set(properties) - set(SIDE_TITLES))
    return [
        (side, SIDE_TITLES.get(side, side), list(properties[side].items()))
        for side in sides
        if isinstance(properties[side], dict)
    ]


def _panel_context(order):
    return {
        "order": order,
        "lab_property_groups": lab_property_groups(order),
        "events": order.events.select_related("actor"),
        "attempts": order.attempts.all(),
        "can_cancel": can_cancel(order),
        "cancel_form": CancelForm(),
    }


def _lifecycle_context(order, items, **bound):
    """The receipt, fitting and closing forms that apply to the order's status."""
    return {
        "can_receive": lifecycle.can_receive(order),
        "can_fit": lifecycle.can_fit(order),
        "can_close": lifecycle.can_close(order),
        "needs_close_reason": lifecycle.needs_close_reason(order),
        "can_remake": order.status in services.SENT_STATUSES,
        "receive_form": bound.get("receive_form") or ReceiveForm(sides=[item.side for item in items]),
        "fit_form": bound.get("fit_form") or FitForm(),
        "close_form": bound.get("close_form") or CloseForm(),
    }


def _items(order):
    # Right ear first, as in the order form and the customer's history (the model orders by
    # the side's value, which puts "left" first).
    return sorted(order.items.select_related("impression"), key=lambda item: item.side != "right")


def _render_detail(request, order, status=200, **bound):
    items = _items(order)
    context = {**_panel_context(order), "items": items, **_lifecycle_context(order, items, **bound)}
    return render(request, "orders/order_detail.html", context, status=status)


@login_required
@require_GET
def order_detail(request, pk):
    return _render_detail(request, _get_order(request, pk))


def _lifecycle_action(request, order, form_name, form, action, success_message):
    """Run a lifecycle step; a refusal re-renders the page with the input and the message."""
    if form.is_valid():
        try:
            order = action(form)
        except lifecycle.InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("orders:order_detail", pk=order.pk)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            logger.info("order %s: %s by user %s", order.pk, form_name, request.user.pk)
            messages.success(request, success_message % {"number": order.number})
            return redirect("orders:order_detail", pk=order.pk)
    return _render_detail(request, order, status=400, **{form_name: form})


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
        lambda f: lifecycle.receive(order, user=request.user, serials=f.serials()),
        _("Wareneingang für %(number)s gebucht."),
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
    """„Reklamation“: a new transaction and the order form as a remake linked to this order."""
    order = _get_order(request, pk)
    if order.status not in services.SENT_STATUSES:
        messages.error(request, _("Eine Reklamation ist erst möglich, wenn die Bestellung beim Labor ist."))
        return redirect("orders:order_detail", pk=order.pk)
    txn = lifecycle.start_follow_up(order.customer, user=request.user, based_on=order)
    if txn is None:
        messages.error(request, _("Es gibt keine aktive Vorgangsvorlage mit Bestellservice: bitte die Filialverwaltung fragen."))
        return redirect("orders:order_detail", pk=order.pk)
    logger.info("remake of order %s started in transaction %s by user %s", order.pk, txn.pk, request.user.pk)
    return redirect(f"{reverse('transactions:order_service', kwargs={'pk': txn.pk})}?remake={order.pk}")


@login_required
@require_GET
def order_status(request, pk):
    """The status panel alone: htmx polls it while the order is in flight.

    The answer that ends the polling also replaces the lifecycle and attachment panels (out
    of band): the receipt, closing and remake actions that now apply appear, and the upload
    that no longer applies goes, without a reload.
    """
    order = _get_order(request, pk)
    context = _panel_context(order)
    if not order.is_in_flight:
        items = _items(order)
        context.update(items=items, lifecycle_oob=True, **_lifecycle_context(order, items))
    return render(request, "orders/_status_panel.html", context)


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
    def confirm_manual_order(order):
        return services.confirm_manual_order(order, user=request.user)

    return _run_action(request, confirm_manual_order, _("Bestellung %(number)s ist als bestellt bestätigt."))


@login_required
@require_POST
def order_cancel(request, pk):
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def cancel(order):
        return services.cancel(order, user=request.user, reason=reason or _("Storniert durch Mitarbeiter."))

    return _run_action(request, cancel, _("Bestellung %(number)s wurde storniert."))


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
