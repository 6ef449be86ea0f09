"""Branch administration (Filialverwaltung): interface definitions, companies, suppliers
and our account numbers.

Only users with an admin scope enter; every queryset goes through that scope. Rules live in
``branches.services`` and the models; these views only connect them to forms.
"""

import logging
import uuid

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _, gettext_lazy
from django.views import View
from django.views.generic import CreateView, DeleteView, ListView, TemplateView, UpdateView

from otoorder.backends.exceptions import ConfigurationError
from suppliers.models import Company, Supplier

from .scope import admin_scope
from .forms import (
    BranchForm,
    CompanyForm,
    InterfaceDefinitionForm,
    SupplierAccountForm,
    SupplierForm,
    duplicate_account_message,
)
from .models import Branch, InterfaceDefinition, SupplierAccount

logger = logging.getLogger(__name__)


class AdminAccessMixin(LoginRequiredMixin):
    """Admins of a branch or a chain only; ``chain_admin_only`` narrows to chain admins."""

    chain_admin_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.scope = admin_scope(request.user)
        if not self.scope.exists:
            raise PermissionDenied(_("Die Filialverwaltung ist nur für Filial- und Kettenadministratoren."))
        if self.chain_admin_only and not self.scope.is_chain_admin():
            raise PermissionDenied(_("Dieser Bereich der Filialverwaltung ist nur für Kettenadministratoren."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(is_chain_admin_nav=self.scope.is_chain_admin(), **kwargs)


class HomeView(AdminAccessMixin, TemplateView):
    template_name = "branches/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            is_chain_admin=self.scope.is_chain_admin(),
            branches=self.scope.branches().select_related("chain"),
            definition_count=InterfaceDefinition.objects.visible_to(self.request.user).count(),
            account_count=SupplierAccount.objects.visible_to(self.request.user).count(),
            **kwargs,
        )


# --- interface definitions ------------------------------------------------------------


class DefinitionListView(AdminAccessMixin, ListView):
    template_name = "branches/definition_list.html"
    context_object_name = "definitions"

    def get_queryset(self):
        return (
            InterfaceDefinition.objects.visible_to(self.request.user)
            .select_related("branch", "supplier__company", "chain")
            .prefetch_related("companies")
            .order_by("name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for definition in context["definitions"]:
            definition.editable = self.scope.can_admin_definition(definition)
        return context


class DefinitionFormMixin(AdminAccessMixin):
    model = InterfaceDefinition
    form_class = InterfaceDefinitionForm
    template_name = "branches/definition_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(scope=self.scope, backend_key=self.request.GET.get("backend"))
        return kwargs

    def form_valid(self, form):
        response = super().form_valid(form)
        logger.info("interface definition %s saved by user %s", self.object.pk, self.request.user.pk)
        messages.success(self.request, _("Die Schnittstellendefinition „%(name)s“ wurde gespeichert.") % {"name": self.object.name})
        return response

    def get_success_url(self):
        return reverse("branches:definition_edit", args=[self.object.pk])


class DefinitionCreateView(DefinitionFormMixin, CreateView):
    extra_context = {"title": gettext_lazy("Neue Schnittstellendefinition")}


class DefinitionUpdateView(DefinitionFormMixin, UpdateView):
    def get_object(self, queryset=None):
        return editable_definition(self.request.user, self.scope, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.object.name, **kwargs)


def editable_definition(user, scope, pk):
    """404 outside what the user sees; 403 for what they see but may not change (chain-wide)."""
    definition = get_object_or_404(InterfaceDefinition.objects.visible_to(user), pk=pk)
    if not scope.can_admin_definition(definition):
        raise PermissionDenied(_("Definitionen für alle Filialen kann nur ein Kettenadministrator ändern."))
    return definition


class DefinitionOptionsView(AdminAccessMixin, View):
    """The options part of the definition form for another backend (htmx, on change)."""

    def get(self, request):
        instance = None
        if request.GET.get("definition"):
            try:
                pk = uuid.UUID(request.GET["definition"])
            except ValueError:
                raise Http404 from None
            instance = editable_definition(self.request.user, self.scope, pk)
        form = InterfaceDefinitionForm(
            instance=instance, scope=self.scope, backend_key=request.GET.get("backend")
        )
        return render(request, "branches/_definition_options.html", {"form": form})


class DefinitionTestConnectionView(AdminAccessMixin, View):
    """'Verbindung testen': reach the lab with the stored configuration, order nothing."""

    def post(self, request, pk):
        definition = editable_definition(self.request.user, self.scope, pk)
        try:
            backend = definition.backend_class(definition.configured_options())
            check = backend.test_connection()
        except ConfigurationError as exc:
            messages.error(request, _("Verbindungstest fehlgeschlagen: %(reason)s") % {"reason": exc.message})
        else:
            logger.info("connection test of definition %s: ok=%s", definition.pk, check.ok)
            if check.ok:
                messages.success(
                    request,
                    _("Verbindung erfolgreich (%(ms)s ms): %(message)s") % {"ms": check.duration_ms, "message": check.message},
                )
            else:
                messages.error(request, _("Verbindungstest fehlgeschlagen: %(reason)s") % {"reason": check.message})
        return redirect("branches:definition_edit", pk=definition.pk)


# --- companies and suppliers (chain admins) -------------------------------------------


class ChainAdminCrudMixin(AdminAccessMixin):
    chain_admin_only = True
    template_name = "branches/object_form.html"
    saved_message = gettext_lazy("„%(name)s“ wurde gespeichert.")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, self.saved_message % {"name": self.object})
        return response


class CompanyListView(AdminAccessMixin, ListView):
    chain_admin_only = True
    template_name = "branches/company_list.html"
    context_object_name = "companies"
    queryset = Company.objects.order_by("name")


class CompanyCreateView(ChainAdminCrudMixin, CreateView):
    model = Company
    form_class = CompanyForm
    success_url = reverse_lazy("branches:company_list")
    extra_context = {"title": gettext_lazy("Neue Firma"), "back_url": reverse_lazy("branches:company_list")}


class CompanyUpdateView(ChainAdminCrudMixin, UpdateView):
    model = Company
    form_class = CompanyForm
    success_url = reverse_lazy("branches:company_list")
    extra_context = {"title": gettext_lazy("Firma bearbeiten"), "back_url": reverse_lazy("branches:company_list")}


class SupplierListView(AdminAccessMixin, ListView):
    chain_admin_only = True
    template_name = "branches/supplier_list.html"
    context_object_name = "suppliers"
    queryset = Supplier.objects.select_related("company").order_by("company__name", "name")


class SupplierCreateView(ChainAdminCrudMixin, CreateView):
    model = Supplier
    form_class = SupplierForm
    success_url = reverse_lazy("branches:supplier_list")
    extra_context = {"title": gettext_lazy("Neuer Lieferant"), "back_url": reverse_lazy("branches:supplier_list")}


class SupplierUpdateView(ChainAdminCrudMixin, UpdateView):
    model = Supplier
    form_class = SupplierForm
    success_url = reverse_lazy("branches:supplier_list")
    extra_context = {"title": gettext_lazy("Lieferant bearbeiten"), "back_url": reverse_lazy("branches:supplier_list")}


# --- branches: address, contact, Bundesland ---------------------------------------------


class BranchScopeMixin(AdminAccessMixin):
    """The branches the user administers (branch admins theirs, chain admins the chain's)."""

    model = Branch
    success_url = reverse_lazy("branches:branch_list")

    def get_queryset(self):
        return self.scope.branches().select_related("chain").order_by("chain__name", "name")


class BranchListView(BranchScopeMixin, ListView):
    template_name = "branches/branch_list.html"
    context_object_name = "branches"


class BranchUpdateView(BranchScopeMixin, UpdateView):
    form_class = BranchForm
    template_name = "branches/object_form.html"
    extra_context = {"title": gettext_lazy("Filiale bearbeiten"), "back_url": reverse_lazy("branches:branch_list")}

    def form_valid(self, form):
        # clean_name() catches duplicates; the constraint still guards a concurrent save.
        try:
            with transaction.atomic():
                response = super().form_valid(form)
        except IntegrityError:
            form.add_error("name", _("In dieser Filialkette gibt es bereits eine Filiale mit diesem Namen."))
            return self.form_invalid(form)
        messages.success(self.request, _("„%(name)s“ wurde gespeichert.") % {"name": self.object.name})
        return response


# --- account numbers (Kundennummern) per branch ----------------------------------------


class AccountScopeMixin(AdminAccessMixin):
    model = SupplierAccount
    success_url = reverse_lazy("branches:account_list")

    def get_queryset(self):
        return SupplierAccount.objects.visible_to(self.request.user).select_related(
            "branch", "supplier__company"
        )


class AccountListView(AccountScopeMixin, ListView):
    template_name = "branches/account_list.html"
    context_object_name = "accounts"


class AccountFormMixin(AccountScopeMixin):
    form_class = SupplierAccountForm
    template_name = "branches/object_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "scope": self.scope}

    def form_valid(self, form):
        # clean() catches duplicates; the constraint still guards a concurrent save.
        try:
            with transaction.atomic():
                response = super().form_valid(form)
        except IntegrityError:
            form.add_error("supplier", duplicate_account_message(form.instance.branch, form.instance.supplier))
            return self.form_invalid(form)
        messages.success(self.request, _("Die Kundennummer wurde gespeichert."))
        return response


class AccountCreateView(AccountFormMixin, CreateView):
    extra_context = {"title": gettext_lazy("Neue Kundennummer"), "back_url": reverse_lazy("branches:account_list")}

    def get_initial(self):
        branches = list(self.scope.branches()[:2])
        return {"branch": branches[0]} if len(branches) == 1 else {}


class AccountUpdateView(AccountFormMixin, UpdateView):
    extra_context = {"title": gettext_lazy("Kundennummer bearbeiten"), "back_url": reverse_lazy("branches:account_list")}


class AccountDeleteView(AccountScopeMixin, DeleteView):
    template_name = "branches/account_confirm_delete.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Die Kundennummer wurde gelöscht."))
        return response
