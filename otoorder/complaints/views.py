"""Pages: "Reklamation erfassen" from an order, the complaint page with its status and
history, and its steps (an Labor gemeldet, Entscheidung, erledigt)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import chain_admin_filter
from branches.models import Chain
from otoorder.orders.attachments import check_request_size
from otoorder.orders.downloads import stored_file_response
from otoorder.orders.event_texts import event_text
from otoorder.orders.lifecycle import InvalidTransition
from otoorder.orders.models import EarmouldOrder

from . import services, window
from .forms import ComplaintForm, DecisionForm, ReasonForm
from .models import Complaint, ComplaintPhoto, ComplaintReason


def _apply_errors(form, exc):
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
def complaint_create(request, pk):
    order = get_object_or_404(EarmouldOrder.objects.visible_to(request.user).select_related("branch"), pk=pk)
    if not services.can_complain(order):
        messages.error(request, _("Reklamieren lässt sich nur eine gelieferte Bestellung (Wareneingang erfasst)."))
        return redirect("orders:order_detail", pk=order.pk)
    reasons = list(services.reasons_for(order))
    form = ComplaintForm(request.POST or None, request.FILES or None, order=order, reasons=reasons)
    if request.method == "POST":
        try:
            check_request_size(request)
        except ValidationError as exc:
            form.add_error("photos", exc)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = services.raise_complaint(
                    order, user=request.user, sides=data["sides"], reason=data["reason"],
                    description=data["description"], return_old_mould=data["return_old_mould"],
                    create_remake=data["create_remake"], uploads=data["photos"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Reklamation erfasst."))
                return redirect("complaints:complaint_detail", pk=complaint.pk)
    windows = {category: window.proposal(order, category) for category in ("fit", "material")}
    return render(request, "complaints/complaint_form.html", {"order": order, "form": form, "windows": windows})


def _complaint(request, pk):
    return get_object_or_404(
        Complaint.objects.visible_to(request.user).select_related("order__customer", "order__supplier", "reason", "remake_order"),
        pk=pk,
    )


@login_required
def complaint_detail(request, pk, decision_form=None):
    complaint = _complaint(request, pk)
    events = [
        (event, event_text(event))
        for event in complaint.order.events.filter(data__complaint=str(complaint.pk)).order_by("created_at", "pk")
    ]
    return render(
        request,
        "complaints/complaint_detail.html",
        {
            "complaint": complaint,
            "events": events,
            "decision_form": decision_form
            or DecisionForm(initial={"outcome": complaint.outcome, "cost_bearer": complaint.cost_bearer, "amount": complaint.amount}),
        },
    )


def _step(request, pk, action, success):
    complaint = _complaint(request, pk)
    try:
        action(complaint)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("complaints:complaint_detail", pk=complaint.pk)


@login_required
@require_POST
def complaint_report(request, pk):
    return _step(request, pk, lambda c: services.report(c, user=request.user), _("Als an das Labor gemeldet vermerkt."))


@login_required
@require_POST
def complaint_close(request, pk):
    return _step(request, pk, lambda c: services.close(c, user=request.user), _("Reklamation erledigt."))


@login_required
@require_POST
def complaint_decide(request, pk):
    complaint = _complaint(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.decide(
                complaint, user=request.user, outcome=data["outcome"], cost_bearer=data["cost_bearer"], amount=data["amount"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("complaints:complaint_detail", pk=complaint.pk)
        else:
            messages.success(request, _("Entscheidung des Labors gespeichert."))
            return redirect("complaints:complaint_detail", pk=complaint.pk)
    return complaint_detail(request, pk, decision_form=form)


@login_required
def photo_download(request, pk):
    """A complaint's photo, for staff of the order's branch only (private storage)."""
    photo = get_object_or_404(ComplaintPhoto.objects.visible_to(request.user), pk=pk)
    return stored_file_response(
        request, photo.file, filename=photo.original_name, content_type=photo.content_type, subject=f"complaint photo {photo.pk}"
    )


def _administered_chain(user):
    """The chain ``user`` administers as a whole (chain admins maintain the reasons)."""
    if not user.is_authenticated:
        raise Http404
    chain = Chain.objects.filter(chain_admin_filter(user, "")).distinct().order_by("name").first()
    if chain is None:
        raise Http404
    return chain


@login_required
def reason_list(request, pk=None):
    """The chain's complaint reasons: add one, or edit one (label, category, active)."""
    chain = _administered_chain(request.user)
    reasons = ComplaintReason.objects.filter(chain=chain).order_by("position", "label")
    instance = get_object_or_404(reasons, pk=pk) if pk is not None else ComplaintReason(chain=chain)
    form = ReasonForm(request.POST or None, instance=instance, chain=chain)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Reklamationsgrund gespeichert."))
        return redirect("complaints:reason_list")
    return render(request, "complaints/reason_list.html", {"chain": chain, "reasons": reasons, "form": form, "editing": pk is not None})
