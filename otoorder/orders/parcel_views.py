"""Staff pages of impression logistics: the box label of an impression (PDF), the parcels
(Sammelversand) with their packing list (PDF), and closing a parcel by hand.

Every lookup is scoped with ``visible_to(user)``: another branch's impression or parcel answers
404. The rules are in ``parcels``; the drawing in ``labels``.
"""

import logging
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otoorder.vocabulary import ImpressionKind
from suppliers.models import Supplier

from . import labels, parcels
from .models import Impression, Parcel
from .parcel_forms import LabChoiceForm, ParcelForm

logger = logging.getLogger(__name__)
#: The parcel list shows the open parcels and the latest closed ones, this many at most.
LIST_LIMIT = 200


def _pdf(content, filename):
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def impression_label(request, pk):
    """The box label of a physical impression: ``?format=62mm`` (label printer) or ``a4``."""
    impression = get_object_or_404(
        Impression.objects.visible_to(request.user).filter(kind=ImpressionKind.PHYSICAL).select_related("customer"), pk=pk
    )
    sheet = request.GET.get("format", labels.LABEL_62)
    if sheet not in labels.FORMATS:
        sheet = labels.LABEL_62
    order = parcels.label_order(impression, request.user)
    if order is None:
        messages.error(request, _("Ein Etikett gibt es erst, wenn der Abdruck zu einer Bestellung gehört."))
        return redirect("orders:impression_detail", pk=impression.pk)
    label = parcels.box_label(impression, order)
    logger.info("box label of impression %s printed by user %s", impression.pk, request.user.pk)
    return _pdf(labels.render_label(label, sheet), f"Etikett-{label.number}.pdf")


def _parcels(user):
    return Parcel.objects.visible_to(user).select_related("supplier__company", "branch", "created_by")


@login_required
@require_GET
def parcel_list(request):
    """The branch's parcels, open ones first."""
    rows = _parcels(request.user).annotate(impression_count=Count("items"))
    rows = rows.order_by(F("closed_at").desc(nulls_first=True), "-created_at")[:LIST_LIMIT]
    return render(request, "orders/parcel_list.html", {"parcels": rows})


def _lab_choice(request):
    """The lab form of step one: labs with open impressions first, each with its count."""
    items = parcels.open_items(request.user)
    counts = dict(items.order_by().values_list("order__supplier").annotate(n=Count("impression", distinct=True)))
    suppliers = Supplier.objects.filter(pk__in=list(counts)).select_related("company").order_by("company__name", "name")
    data = request.GET if "labor" in request.GET else None
    return LabChoiceForm(data, suppliers=suppliers, counts=counts)


@login_required
@require_http_methods(["GET", "POST"])
def parcel_create(request):
    """Choose the lab (GET ``?labor=``), tick its open impressions, enter carrier and tracking
    number once (POST): the parcel is created and its page offers the packing list."""
    lab_form = _lab_choice(request)
    supplier = lab_form.cleaned_data["labor"] if lab_form.is_bound and lab_form.is_valid() else None
    if request.method == "POST":
        supplier = _posted_supplier(request.POST.get("supplier"))
    items = []
    form = None
    if supplier is not None:
        items = parcels.open_impressions(request.user, supplier)
        form = ParcelForm(request.POST or None, items=items, initial={"carrier": supplier.carrier})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                parcel = parcels.create_parcel(
                    user=request.user,
                    supplier=supplier,
                    impressions=data["impressions"],
                    carrier=data["carrier"],
                    tracking_number=data["tracking_number"],
                )
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Paket an %(lab)s mit %(count)d Abdrücken angelegt. Bitte die Packliste drucken und beilegen.")
                    % {"lab": supplier.display_name, "count": parcel.items.count()},
                )
                return redirect("orders:parcel_detail", pk=parcel.pk)
    context = {"lab_form": lab_form, "supplier": supplier, "items": items, "form": form}
    status = 400 if form is not None and form.is_bound and form.errors else 200
    return render(request, "orders/parcel_form.html", context, status=status)


def _posted_supplier(value):
    """The lab the form was for (a hidden field): an unknown or malformed id answers 404."""
    try:
        pk = uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(Supplier.objects.select_related("company"), pk=pk)


@login_required
@require_GET
def parcel_detail(request, pk):
    parcel = get_object_or_404(_parcels(request.user), pk=pk)
    items = parcel.items.select_related("order", "impression__customer").order_by("order__number", "-impression__side")
    rows = [(item, labels.label_number(item.order.number, item.impression.side)) for item in items]
    return render(request, "orders/parcel_detail.html", {"parcel": parcel, "rows": rows})


@login_required
@require_GET
def parcel_packing_list(request, pk):
    parcel = get_object_or_404(_parcels(request.user), pk=pk)
    logger.info("packing list of parcel %s printed by user %s", parcel.pk, request.user.pk)
    return _pdf(labels.render_packing_list(parcels.packing_list(parcel)), f"Packliste-{parcel.created_at:%Y-%m-%d}.pdf")


@login_required
@require_POST
def parcel_close(request, pk):
    parcel = get_object_or_404(_parcels(request.user), pk=pk)
    try:
        parcels.close_parcel(parcel, user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Das Paket wurde abgeschlossen."))
    return redirect("orders:parcel_detail", pk=parcel.pk)
