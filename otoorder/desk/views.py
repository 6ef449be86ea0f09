"""Staff views: customers, their transactions and the Bestellservice step.

Every queryset is scoped with ``visible_to(user)`` (the rule of ``branches.access``): a
customer, transaction or order of another branch answers 404, as if it did not exist.
"""

import logging
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.db.models import F, Prefetch, Q, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from branches.models import Branch
from branches.resolver import READY, SUPPLIER_REQUIRED, order_candidates
from otoorder.backends import registry
from otoorder.complaints.services import can_complain
from otoorder.orders import idempotency, lifecycle, live, warranty
from otoorder.orders.impression_views import impressions_panel
from otoorder.orders.choices import OrderType
from otoorder.orders.models import EarmouldOrder, OrderItem
from otoorder.orders.paging import BoundedPaginator
from otoorder.orders.lifecycle_forms import REMAKE_REASON_KEY
from otoorder.orders.order_forms import OrderServiceForms
from otoorder.orders.validation import supplier_mismatch
from otoorder.orders.services import (
    SENT_STATUSES,
    NoCompany,
    SupplierRequired,
    default_date_required,
    place_order,
    resolve_for,
)
from otoorder.transactions.models import Customer, StepType, Transaction, TransactionTemplate
from otoorder.vocabulary import Side
from suppliers.models import Company, Supplier

from .forms import CustomerForm, CustomerSearchForm, StartTransactionForm, StepDoneForm

logger = logging.getLogger(__name__)


def _customers(user):
    return Customer.objects.visible_to(user).select_related("branch")


def _transactions(user):
    return Transaction.objects.visible_to(user).select_related("customer", "branch", "template")


def active_templates():
    return TransactionTemplate.objects.filter(is_active=True)


@login_required
@require_GET
def customer_list(request):
    search = CustomerSearchForm(request.GET)
    customers = _customers(request.user)
    query = search.data.get("q", "").strip()[:200]
    for term in query.split()[:5]:
        match = Q(first_name__icontains=term) | Q(last_name__icontains=term)
        if term.isdigit() and len(term) <= 9:
            match |= Q(customer_number=int(term))
        customers = customers.filter(match)
    page = BoundedPaginator(customers, 50).get_page(request.GET.get("page"))
    # htmx (search as you type) gets the results only; the page works without JavaScript.
    partial = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    response = render(
        request,
        "transactions/_customer_search.html" if partial else "transactions/customer_list.html",
        {"search": search, "query": query, "page": page},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def customer_create(request):
    branches = Branch.objects.visible_to(request.user)
    form = CustomerForm(request.POST or None, branches=branches, user=request.user)
    if request.method == "POST" and form.is_valid():
        customer = form.save()
        logger.info("customer %s created by user %s", customer.pk, request.user.pk)
        messages.success(request, _("Kunde %(number)s angelegt.") % {"number": customer.customer_number})
        return redirect("transactions:customer_detail", pk=customer.pk)
    return render(request, "transactions/customer_form.html", {"form": form})


@login_required
@require_GET
def customer_detail(request, pk):
    """The customer page; with ``?live=<version>`` its status check (``orders.live``): 304
    while the customer's orders are as the page shows them, else the page's content region."""
    state = live.customer_state(_customers(request.user), pk)
    if state is None:
        raise Http404
    if live.unchanged(request, state):
        return live.not_modified()
    customer = get_object_or_404(_customers(request.user), pk=pk)
    transactions = customer.transactions.prefetch_related("steps").order_by("-created_at")
    orders = customer.orders.select_related("supplier__company", "company").order_by("-created_at")
    shown = history_length(request.GET.get(HISTORY_PARAM))
    history = ear_history(customer, limit=shown + 1)
    more = [side for side, items in history.items() if len(items) > shown]
    history = {side: items[:shown] for side, items in history.items()}
    reorderable = {
        side: next((item for item in items if item.order.status in lifecycle.REORDERABLE), None)
        for side, items in history.items()
    }
    # The newest reorderable earmould is older than the shown part of a long history.
    missing = [side for side in more if reorderable[side] is None]
    if missing:
        reorderable.update(lifecycle.last_items(customer, sides=missing))
    context = {
        "customer": customer,
        "transactions": transactions,
        "orders": orders,
        "history": [(side, SIDE_TITLES[side], items) for side, items in history.items()],
        "history_more": more,
        "history_next": min(shown + HISTORY_STEP, MAX_HISTORY),
        "reorderable": reorderable,
        "by_side": impressions_panel(customer),
        "start_form": StartTransactionForm(templates=active_templates()),
        **live.context(request, state, params={HISTORY_PARAM: shown} if shown != HISTORY_STEP else None),
    }
    return live.respond(render(request, "transactions/customer_detail.html", context))


SIDE_TITLES = {Side.RIGHT: gettext_lazy("Rechtes Ohr"), Side.LEFT: gettext_lazy("Linkes Ohr")}


#: The customer page shows the newest earmoulds of each ear; "mehr anzeigen" shows this many
#: more (``?verlauf=<n>``), up to ``MAX_HISTORY``.
HISTORY_STEP = 10
MAX_HISTORY = 500
HISTORY_PARAM = "verlauf"


def history_length(value):
    """Earmoulds shown per ear: ``?verlauf=<n>`` within ``HISTORY_STEP..MAX_HISTORY``."""
    try:
        number = int(str(value)[:4])
    except (TypeError, ValueError):
        return HISTORY_STEP
    return min(max(number, HISTORY_STEP), MAX_HISTORY)


def ear_history(customer, limit=None):
    """``{"right": [items], "left": [items]}``: the earmoulds ordered per ear, newest first
    (at most ``limit`` per ear, None: all), in one query whatever the length of the history
    (a new order adds rows, it never replaces one); each with ``free_remake``, its
    free-remake windows still open today, and ``can_complain``: the earmould was delivered, so a
    complaint may be raised for its ear."""
    history = {Side.RIGHT: [], Side.LEFT: []}
    newest_first = (F("order__created_at").desc(), F("pk").asc())
    items = (
        OrderItem.objects.filter(order__customer=customer)
        .select_related("order__supplier__company", "order__original_order", "impression")
        .order_by(*newest_first)
    )
    if limit is not None:
        rank = Window(RowNumber(), partition_by=[F("side")], order_by=newest_first)
        items = items.annotate(ear_rank=rank).filter(ear_rank__lte=limit)
    today = timezone.localdate()
    for item in items:
        item.free_remake = warranty.open_windows(item, today)
        item.can_complain = can_complain(item.order)
        history.setdefault(item.side, []).append(item)
    return history


@login_required
@require_POST
def transaction_start(request, pk):
    customer = get_object_or_404(_customers(request.user), pk=pk)
    form = StartTransactionForm(request.POST, templates=active_templates())
    if not form.is_valid():
        messages.error(request, _("Bitte eine aktive Vorlage wählen."))
        return redirect("transactions:customer_detail", pk=customer.pk)
    txn = Transaction.objects.start(customer=customer, template=form.cleaned_data["template"], user=request.user)
    logger.info("transaction %s started for customer %s", txn.pk, customer.pk)
    messages.success(request, _("Vorgang „%(name)s“ gestartet.") % {"name": txn.name})
    return redirect("transactions:transaction_detail", pk=txn.pk)


@login_required
@require_GET
def transaction_detail(request, pk):
    txn = get_object_or_404(
        _transactions(request.user).prefetch_related(
            "steps__predefined_company",
            Prefetch("orders", queryset=EarmouldOrder.objects.select_related("supplier__company")),
        ),
        pk=pk,
    )
    # The order form's one-time token rides in the link, so that browser back to the form
    # returns to the same token (``_url_token``).
    return render(request, "transactions/transaction_detail.html", {"txn": txn, "order_form_token": uuid.uuid4()})


@login_required
@require_POST
def step_done(request, pk):
    """Tick off a step of the Vorgang by hand ("Abdruck nehmen", "Wareneingang prüfen", a task),
    or open it again; the Bestellservice step is ticked by placing the order."""
    txn = get_object_or_404(_transactions(request.user), pk=pk)
    form = StepDoneForm(request.POST, steps=txn.steps.all())
    if not form.is_valid():
        messages.error(request, _("Dieser Schritt kann hier nicht abgehakt werden."))
        return redirect("transactions:transaction_detail", pk=txn.pk)
    step = form.cleaned_data["step"]
    step.done_at = timezone.now() if form.cleaned_data["done"] else None
    step.save(update_fields=["done_at"])
    logger.info("step %s of transaction %s %s by user %s", step.pk, txn.pk, "done" if step.done_at else "reopened", request.user.pk)
    if step.done_at:
        messages.success(request, _("„%(title)s“ ist erledigt.") % {"title": step.title})
    else:
        messages.info(request, _("„%(title)s“ ist wieder offen.") % {"title": step.title})
    return redirect("transactions:transaction_detail", pk=txn.pk)


def _order_service_step(txn):
    step = txn.order_service_step
    if step is None:
        raise Http404(_("Dieser Vorgang hat keinen Bestellservice-Schritt."))
    return step


def resolution_preview(txn, company, supplier=None):
    """What the Bestellservice will do with this selection, for the preview panel.

    When a supplier must be chosen and exactly one candidate belongs to the company, that
    one is preselected (staff may still pick another).
    """
    resolution = resolve_for(txn, company, supplier)
    preselected = False
    if resolution.outcome == SUPPLIER_REQUIRED:
        own = [s for s in resolution.candidates if s.company_id == company.id]
        if len(own) == 1:
            resolution, preselected = resolve_for(txn, company, own[0]), True
    definition = resolution.definition
    fixed = resolution.outcome == READY and definition is not None and definition.supplier_id is not None
    candidates = ()
    if company is not None and not fixed:
        candidates = order_candidates(Supplier.objects.filter(is_active=True).select_related("company"), company.id)
    return {
        "resolution": resolution,
        "company": company,
        "supplier_fixed": fixed,
        "supplier_mismatch": not fixed and supplier_mismatch(company, resolution.supplier),
        "preselected": preselected,
        "own_candidates": [s for s in candidates if s.company_id == company.id],
        "other_candidates": [s for s in candidates if s.company_id != company.id],
        "selected_supplier_id": resolution.supplier.pk if resolution.supplier else None,
        "backend_label": registry.label(resolution.backend_key),
    }


def _preview_url(txn):
    return reverse("transactions:order_service_preview", kwargs={"pk": txn.pk})


def _prefill(request, txn):
    """Initial values from ``?reorder=right&reorder=left`` or ``?remake=<order>`` (both scoped
    to the transaction's customer); None for a blank form."""
    if request.GET.get("remake"):
        original = _selected(txn.customer.orders.select_related("company", "supplier"), request.GET["remake"])
        return lifecycle.remake_initial(original) if original is not None else None
    sides = [side for side in request.GET.getlist("reorder") if side in Side.values]
    return lifecycle.reorder_initial(txn.customer, sides) if sides else None


def _order_forms(customer, preview_url, data=None, *, initial=None, ears=None):
    supplier = initial.get("supplier") if initial else None
    return OrderServiceForms(
        data,
        preview_url=preview_url,
        initial=initial,
        ears=ears,
        customer=customer,
        default_date=default_date_required(supplier) if supplier is not None else None,
    )


def _prefilled_forms(customer, preview_url, prefill, token):
    """A re-order or remake: the lab and every field of the earlier earmould."""
    initial = {
        "company": prefill["company"],
        "supplier": prefill["supplier"],
        **prefill["header"],
        "submission_token": token,
    }
    return _order_forms(customer, preview_url, initial=initial, ears=prefill["ears"])


#: Query parameter of the order form's one-time token (see ``_url_token``).
TOKEN_PARAM = "token"


def _url_token(request):
    """The one-time token of the link that opened the order form, or a new one.

    The links that open the form carry a token (the transaction page, re-order, remake): browser
    back to the form loads the same address and so the same token, whose second submission then
    shows the first order instead of placing another."""
    try:
        return uuid.UUID(request.GET.get(TOKEN_PARAM, ""))
    except ValueError:
        return uuid.uuid4()


def _with_token(url):
    return f"{url}{'&' if '?' in url else '?'}{TOKEN_PARAM}={uuid.uuid4()}"


def _form_scope(request):
    return f"form:{request.user.pk}"


def _already_submitted(request, branch):
    """The order placed before with the form's one-time token (browser back and submit again)."""
    token = request.POST.get("submission_token", "")
    return idempotency.submitted(scope=_form_scope(request), branch=branch, key=token) if token else None


def _show_first_order(request, order):
    messages.info(
        request,
        _("Dieses Formular wurde bereits abgeschickt: das ist die Bestellung %(number)s. Es wurde keine zweite erstellt.")
        % {"number": order.number},
    )
    return redirect("orders:order_detail", pk=order.pk)


def _submit(request, forms, *, branch, start):
    """Place the order of valid ``forms`` at most once per form token; the redirect to the
    order, or None when the service refused (its errors are on the forms).

    ``start()`` returns the transaction and its Bestellservice step; it runs in the database
    transaction of the order, so a follow-up's Vorgang exists only together with its order.
    """
    company, supplier = forms.selection()

    def place():
        txn, step = start()
        return place_order(
            transaction_obj=txn,
            company=company,
            supplier=supplier,
            items=forms.items(),
            user=request.user,
            step=step,
            header=forms.header.header(),
        )

    token = forms.header.cleaned_data.get("submission_token")
    try:
        if token is None:
            with db_transaction.atomic():
                order, created = place(), True
        else:
            order, created = idempotency.place_once(
                scope=_form_scope(request), branch=branch, key=str(token), digest="", place=place, check_body=False
            )
    except NoCompany as exc:
        forms.header.add_error("company", exc.message)
    except SupplierRequired as exc:
        forms.header.add_error("supplier", exc.message)
    except ValidationError as exc:
        forms.add_service_errors(exc)
    else:
        if not created:
            return _show_first_order(request, order)
        messages.success(
            request,
            _("Bestellung %(number)s wurde erstellt und wird an %(supplier)s gesendet.")
            % {"number": order.number, "supplier": order.supplier},
        )
        return redirect("orders:order_detail", pk=order.pk)
    return None


#: POST field: the key of the charge warning shown with the form (``warranty.reasons_key``).
CHARGE_SEEN = "charge_warning_seen"


def _charge_warning(original, reasons, *, pending=False):
    """The remake form's warning that the lab may charge, or None when the remake is free;
    ``pending``: a submitted form held back to show it."""
    if not reasons:
        return None
    return {
        "original": original,
        "text": warranty.warning_text(reasons),
        "key": warranty.reasons_key(reasons),
        "pending": pending,
    }


def _render_order_form(
    request, txn, step, forms, *, preview_url, cancel_url, existing_orders=(), selection=None, charge_warning=None
):
    """The order form page; ``selection`` is the company and supplier as submitted (a service
    error on the supplier field removes it from the form's cleaned data)."""
    company, supplier = selection or forms.selection()
    if not forms.header.is_bound and supplier is not None:
        forms.limit_to_catalogue(supplier)
    # Browser back to a form already submitted: say so before it is submitted again.
    token = forms.header["submission_token"].value()
    already = None
    if not forms.header.is_bound and token:
        already = idempotency.submitted(scope=_form_scope(request), branch=txn.branch, key=str(token))
    preview = resolution_preview(txn, company, supplier)
    resolved = preview["resolution"].supplier
    if resolved is not None:
        # "leer = <date>" from the lab that will get the order, also after a refused submit.
        forms.header.show_default_date(default_date_required(resolved))
    context = {
        "already_submitted": already,
        "txn": txn,
        "customer": txn.customer,
        "step": step,
        "forms": forms,
        "preview_url": preview_url,
        "cancel_url": cancel_url,
        "existing_orders": existing_orders,
        "supplier_errors": forms.header.errors.get("supplier"),
        "charge_warning": charge_warning,
        "charge_seen_name": CHARGE_SEEN,
        **preview,
    }
    return render(request, "transactions/order_service.html", context)


@login_required
def order_service(request, pk):
    txn = get_object_or_404(_transactions(request.user), pk=pk)
    step = _order_service_step(txn)
    preview_url = _preview_url(txn)
    charge_warning = None
    if request.method == "POST":
        first = _already_submitted(request, txn.branch)
        if first is not None:
            return _show_first_order(request, first)
        forms = _order_forms(txn.customer, preview_url, request.POST)
        valid = forms.is_valid()
        selection = forms.selection()
        if valid:
            # A remake the lab may charge is placed only once staff saw the warning naming
            # exactly these reasons (as in the follow-up form).
            remake_of = _remake_original(txn, forms.header.cleaned_data)
            if remake_of is not None:
                reasons = warranty.charge_reasons(remake_of, forms.items(), timezone.localdate())
                charge_warning = _charge_warning(remake_of, reasons, pending=True)
        if valid and (charge_warning is None or charge_warning["key"] == request.POST.get(CHARGE_SEEN)):
            done = _submit(request, forms, branch=txn.branch, start=lambda: (txn, step))
            if done is not None:
                return done
    else:
        prefill = _prefill(request, txn)
        if prefill is not None:
            forms = _prefilled_forms(txn.customer, preview_url, prefill, _url_token(request))
            remake_of = _remake_original(txn, prefill["header"])
            if remake_of is not None:
                charge_warning = _charge_warning(remake_of, warranty.window_reasons(remake_of, timezone.localdate()))
        else:
            # R6: the predefined lab, as long as it is still in use.
            initial = {
                "company": _active_or_none(step.predefined_company),
                "supplier": _active_or_none(step.predefined_supplier),
                "submission_token": _url_token(request),
            }
            forms = _order_forms(txn.customer, preview_url, initial=initial)
        selection = None
    return _render_order_form(
        request,
        txn,
        step,
        forms,
        preview_url=preview_url,
        cancel_url=reverse("transactions:transaction_detail", kwargs={"pk": txn.pk}),
        existing_orders=txn.orders.order_by("-created_at"),
        selection=selection,
        charge_warning=charge_warning,
    )


def _remake_original(txn, header):
    """The customer's order that a remake with ``header`` replaces (None for other orders)."""
    if header.get("order_type") != OrderType.REMAKE or not header.get("original_order"):
        return None
    original = header["original_order"]
    return _selected(txn.customer.orders.select_related("supplier"), getattr(original, "pk", original))


@login_required
@require_GET
def order_service_preview(request, pk):
    """The htmx partial: the resolution of the company (and supplier) currently selected."""
    txn = get_object_or_404(_transactions(request.user), pk=pk)
    _order_service_step(txn)
    return _preview(request, txn, _preview_url(txn))


def _preview(request, txn, preview_url):
    company = _selected(Company.objects.filter(is_active=True), request.GET.get("company"))
    supplier = _selected(Supplier.objects.filter(is_active=True), request.GET.get("supplier"))
    context = {"txn": txn, "preview_url": preview_url, **resolution_preview(txn, company, supplier)}
    return render(request, "transactions/_resolution_preview.html", context)


def _active_or_none(obj):
    return obj if obj is not None and obj.is_active else None


def _selected(queryset, value):
    """The object with primary key ``value``, or None for empty or unknown values."""
    if not value:
        return None
    try:
        return queryset.filter(pk=value).first()
    except ValidationError:  # not a UUID
        return None



@login_required
@require_POST
def customer_reorder(request, pk):
    """„Nachbestellen“: the order form prefilled with the last earmould of the chosen ear(s)
    (``side`` = right, left or both). Nothing is created before the order is submitted."""
    customer = get_object_or_404(_customers(request.user), pk=pk)
    side = request.POST.get("side")
    sides = [Side.RIGHT, Side.LEFT] if side == "both" else [side] if side in Side.values else []
    last = lifecycle.last_items(customer, sides) if sides else {}
    if not last:
        messages.error(request, _("Für dieses Ohr gibt es noch keine Otoplastik, die nachbestellt werden kann."))
        return redirect("transactions:customer_detail", pk=customer.pk)
    query = "&".join(f"reorder={s}" for s in last)
    return redirect(_with_token(f"{reverse('transactions:follow_up_order', kwargs={'pk': customer.pk})}?{query}"))


def _follow_up(request, customer):
    """The order a re-order or remake follows and the form's prefill, from ``?remake=<order>``
    or ``?reorder=right&reorder=left``; (None, None) when there is nothing to follow."""
    if request.GET.get("remake"):
        original = _selected(
            customer.orders.select_related("company", "supplier", "transaction__template"), request.GET["remake"]
        )
        if original is None or original.status not in SENT_STATUSES:
            return None, None
        prefill = lifecycle.remake_initial(original)
        reason = request.session.get(REMAKE_REASON_KEY % original.pk)
        if reason:
            prefill["header"]["reason"] = reason
        return original, prefill
    sides = [side for side in request.GET.getlist("reorder") if side in Side.values]
    prefill = lifecycle.reorder_initial(customer, sides) if sides else None
    if prefill is None:
        return None, None
    return prefill["based_on"], prefill


@login_required
def follow_up_order(request, pk):
    """The order form of a re-order or remake. The Vorgang is started only when the order is
    placed, in the same database transaction: "Abbrechen" leaves nothing behind."""
    customer = get_object_or_404(_customers(request.user), pk=pk)
    first = _already_submitted(request, customer.branch) if request.method == "POST" else None
    if first is not None:
        return _show_first_order(request, first)
    based_on, prefill = _follow_up(request, customer)
    template = lifecycle.order_template(based_on.transaction.template) if based_on is not None else None
    back = (
        reverse("orders:order_detail", kwargs={"pk": based_on.pk})
        if request.GET.get("remake") and based_on is not None
        else reverse("transactions:customer_detail", kwargs={"pk": customer.pk})
    )
    if prefill is None:
        messages.error(request, _("Diese Nachbestellung oder Reklamation ist nicht (mehr) möglich."))
        return redirect(back)
    if template is None:
        messages.error(request, _("Es gibt keine aktive Vorgangsvorlage mit Bestellservice: bitte die Filialverwaltung fragen."))
        return redirect(back)
    # The Vorgang as it will be started (not saved): the resolver needs only its branch.
    draft = Transaction(customer=customer, branch=customer.branch, template=template, name=template.name)
    step = template.steps.filter(step_type=StepType.ORDER_SERVICE).order_by("position").first()
    preview_url = reverse("transactions:follow_up_preview", kwargs={"pk": customer.pk})
    # A remake the lab may charge (window closed, style/material/colour/vent changed) is
    # placed only once staff have seen the warning naming exactly these reasons.
    remake_of = based_on if request.GET.get("remake") else None
    today = timezone.localdate()
    charge_warning = None
    if request.method == "POST":
        forms = _order_forms(customer, preview_url, request.POST)
        valid = forms.is_valid()
        selection = forms.selection()
        if valid and remake_of is not None:
            reasons = warranty.charge_reasons(remake_of, forms.items(), today)
            charge_warning = _charge_warning(remake_of, reasons, pending=True)
        if valid and (charge_warning is None or charge_warning["key"] == request.POST.get(CHARGE_SEEN)):

            def start():
                txn = Transaction.objects.start(customer=customer, template=template, user=request.user)
                logger.info("follow-up of order %s placed in transaction %s", based_on.pk, txn.pk)
                return txn, txn.order_service_step

            done = _submit(request, forms, branch=customer.branch, start=start)
            if done is not None:
                request.session.pop(REMAKE_REASON_KEY % based_on.pk, None)
                return done
    else:
        forms = _prefilled_forms(customer, preview_url, prefill, _url_token(request))
        selection = None
        if remake_of is not None:
            charge_warning = _charge_warning(remake_of, warranty.window_reasons(remake_of, today))
    return _render_order_form(
        request, draft, step, forms, preview_url=preview_url, cancel_url=back, selection=selection,
        charge_warning=charge_warning,
    )


@login_required
@require_GET
def follow_up_preview(request, pk):
    """The resolution preview of the follow-up form (for the customer's branch)."""
    customer = get_object_or_404(_customers(request.user), pk=pk)
    draft = Transaction(customer=customer, branch=customer.branch)
    return _preview(request, draft, reverse("transactions:follow_up_preview", kwargs={"pk": customer.pk}))
