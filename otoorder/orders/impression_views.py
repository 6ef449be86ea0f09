"""Staff views of impressions and 3D scans: record one per ear, list them, view a scan in 3D.

Every queryset is scoped with ``visible_to(user)`` (``branches.access``): another branch's
customer or scan answers 404. Scan files live in private storage and reach the browser only
through :func:`impression_file`, never through a public URL.
"""

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from otoorder import vocabulary
from otoorder.transactions.models import Customer

from . import scans
from .downloads import stored_file_response
from .models import Impression

logger = logging.getLogger(__name__)


def _impressions(user):
    return Impression.objects.visible_to(user).select_related(
        "customer", "customer__branch", "uploaded_by"
    )


def _customer(request, pk):
    return get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)


class ImpressionForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Art"),
        choices=vocabulary.ImpressionKind.choices,
        initial=vocabulary.ImpressionKind.SCAN,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=gettext_lazy("Scan-Datei (STL oder PLY)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".stl,.ply,model/stl,application/octet-stream"}),
    )
    scanner = forms.CharField(label=gettext_lazy("Scanner"), max_length=100, required=False)
    reference = forms.CharField(
        label=gettext_lazy("Kennzeichnung (Etikett der Abdruckbox)"), max_length=100, required=False
    )
    tracking_number = forms.CharField(label=gettext_lazy("Sendungsnummer"), max_length=100, required=False)

    def save(self, *, customer, side, user):
        """The impression, or ``None`` with the service's refusals added to the fields."""
        data = self.cleaned_data
        try:
            return scans.create_impression(
                customer=customer,
                side=side,
                kind=data["kind"],
                user=user,
                upload=data["file"] or None,
                reference=data["reference"],
                tracking_number=data["tracking_number"],
                scanner=data["scanner"],
            )
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return None


@login_required
@require_GET
def customer_impressions(request, customer_pk):
    """The customer's impressions per ear; htmx requests get only the panel."""
    customer = _customer(request, customer_pk)
    context = {"customer": customer, "by_side": impressions_panel(customer)}
    if request.headers.get("HX-Request"):
        return render(request, "orders/impression_panel.html", context)
    return render(request, "orders/impression_list.html", context)


def impressions_panel(customer):
    """Context ``by_side`` of ``orders/impression_panel.html``: ``(side, label, impressions)`` per ear."""
    by_side = scans.impressions_by_side(customer)
    return [(side, vocabulary.Side(side).label, by_side[side]) for side in (vocabulary.Side.RIGHT, vocabulary.Side.LEFT)]


@login_required
def impression_create(request, customer_pk, side):
    customer = _customer(request, customer_pk)
    if side not in vocabulary.Side.values:
        raise Http404
    if request.method == "POST":
        try:
            scans.check_request_size(request)
        except ValidationError as exc:
            # The body is never read: a bound empty form only carries the refusal.
            form = ImpressionForm({"kind": vocabulary.ImpressionKind.SCAN})
            form.is_valid()
            form.add_error("file", exc)
            return _render_form(request, customer, side, form)
    form = ImpressionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        impression = form.save(customer=customer, side=side, user=request.user)
        if impression is not None:
            messages.success(
                request,
                _("%(kind)s für das %(side)s Ohr gespeichert.")
                % {"kind": impression.get_kind_display(), "side": _side_adjective(side)},
            )
            if impression.file:
                return redirect("orders:impression_detail", pk=impression.pk)
            return redirect("transactions:customer_detail", pk=customer.pk)
    return _render_form(request, customer, side, form)


def _render_form(request, customer, side, form):
    return render(
        request,
        "orders/impression_form.html",
        {"customer": customer, "side": side, "side_label": vocabulary.Side(side).label, "form": form},
    )


def _side_adjective(side):
    return _("rechte") if side == vocabulary.Side.RIGHT else _("linke")


@login_required
@require_GET
def impression_detail(request, pk):
    impression = get_object_or_404(_impressions(request.user), pk=pk)
    return render(request, "orders/impression_detail.html", {"impression": impression})


@login_required
@require_GET
@never_cache
def impression_file(request, pk):
    """The scan file itself, only for staff of the customer's branch, never cached."""
    impression = get_object_or_404(_impressions(request.user).exclude(file=""), pk=pk)
    response = stored_file_response(
        request,
        impression.file,
        filename=impression.original_name or impression.file.name.rsplit("/", 1)[-1],
        content_type="application/octet-stream",
        subject=f"scan file of impression {impression.pk}",
    )
    if response.status_code == 200:
        logger.info("scan %s downloaded by user %s", impression.pk, request.user.pk)
    return response
