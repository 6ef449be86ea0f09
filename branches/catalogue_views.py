"""Lab catalogues in branch administration (chain admins): per supplier its entries and rules,
create/edit/delete, and CSV export and import (``suppliers.resources``).
"""

import logging

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.utils.translation import gettext as _, gettext_lazy
from django.views import View
from django.views.generic import CreateView, DeleteView, TemplateView, UpdateView

from suppliers import catalogue
from suppliers.models import CatalogueEntry, CatalogueRule, Supplier
from suppliers.resources import ENTRIES, RESOURCES, export_csv, import_csv

from .catalogue_forms import CatalogueEntryForm, CatalogueImportForm, CatalogueRuleForm, value_suggestions
from .views import AdminAccessMixin

logger = logging.getLogger(__name__)


class SupplierCatalogueMixin(AdminAccessMixin):
    chain_admin_only = True

    @cached_property
    def supplier(self):
        # Looked up on first use, i.e. after the permission check of dispatch().
        return get_object_or_404(Supplier.objects.select_related("company"), pk=self.kwargs["pk"])

    def catalogue_url(self):
        return reverse("branches:catalogue", args=[self.supplier.pk])

    def get_context_data(self, **kwargs):
        return super().get_context_data(supplier=self.supplier, back_url=self.catalogue_url(), **kwargs)


def validity(row, today):
    if row.valid_from and row.valid_from > today:
        return "future"
    if row.valid_until and row.valid_until < today:
        return "expired"
    return "valid"


class CatalogueView(SupplierCatalogueMixin, TemplateView):
    template_name = "branches/catalogue_detail.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        labels = catalogue.field_labels()
        order = {name: i for i, name in enumerate(catalogue.CATALOGUE_FIELDS)}
        entries = sorted(self.supplier.catalogue_entries.all(), key=lambda e: (order.get(e.field, 99), e.value))
        for entry in entries:
            entry.field_label = labels.get(entry.field, entry.field)
            entry.value_label = catalogue.value_label(entry.field, entry.value)
            entry.validity = validity(entry, today)
        rules = list(self.supplier.catalogue_rules.all())
        for rule in rules:
            rule.style_label = catalogue.value_label("style", rule.style) if rule.style else _("jede Bauform")
            rule.material_label = catalogue.value_label("material", rule.material) if rule.material else _("jedes Material")
            rule.validity = validity(rule, today)
        kwargs.setdefault("import_form", CatalogueImportForm())
        return super().get_context_data(entries=entries, rules=rules, **kwargs)


class _CatalogueObjectMixin(SupplierCatalogueMixin):
    template_name = "branches/catalogue_form.html"
    pk_url_kwarg = "item"
    saved_message = ""

    def get_queryset(self):
        return self.model.objects.filter(supplier=self.supplier)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "supplier": self.supplier}

    def get_success_url(self):
        return self.catalogue_url()

    def form_valid(self, form):
        try:
            with transaction.atomic():
                response = super().form_valid(form)
        except IntegrityError:
            form.add_error("value", catalogue.duplicate_entry_message(form.instance.field, form.instance.value))
            return self.form_invalid(form)
        messages.success(self.request, self.saved_message)
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, value_suggestions=value_suggestions(), **kwargs)


class EntryCreateView(_CatalogueObjectMixin, CreateView):
    model = CatalogueEntry
    form_class = CatalogueEntryForm
    title = gettext_lazy("Neuer Katalogeintrag")
    saved_message = gettext_lazy("Der Katalogeintrag wurde gespeichert.")


class EntryUpdateView(_CatalogueObjectMixin, UpdateView):
    model = CatalogueEntry
    form_class = CatalogueEntryForm
    title = gettext_lazy("Katalogeintrag bearbeiten")
    saved_message = gettext_lazy("Der Katalogeintrag wurde gespeichert.")


class RuleCreateView(_CatalogueObjectMixin, CreateView):
    model = CatalogueRule
    form_class = CatalogueRuleForm
    title = gettext_lazy("Neue Regel")
    saved_message = gettext_lazy("Die Regel wurde gespeichert.")


class RuleUpdateView(_CatalogueObjectMixin, UpdateView):
    model = CatalogueRule
    form_class = CatalogueRuleForm
    title = gettext_lazy("Regel bearbeiten")
    saved_message = gettext_lazy("Die Regel wurde gespeichert.")


class _DeleteMixin(SupplierCatalogueMixin):
    template_name = "branches/catalogue_confirm_delete.html"
    pk_url_kwarg = "item"

    def get_queryset(self):
        return self.model.objects.filter(supplier=self.supplier)

    def get_success_url(self):
        return self.catalogue_url()

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, self.deleted_message)
        return response


class EntryDeleteView(_DeleteMixin, DeleteView):
    model = CatalogueEntry
    deleted_message = gettext_lazy("Der Katalogeintrag wurde gelöscht.")


class RuleDeleteView(_DeleteMixin, DeleteView):
    model = CatalogueRule
    deleted_message = gettext_lazy("Die Regel wurde gelöscht.")


class CatalogueExportView(SupplierCatalogueMixin, View):
    def get(self, request, pk, kind):
        if kind not in RESOURCES:
            return redirect(self.catalogue_url())
        name = "eintraege" if kind == ENTRIES else "regeln"
        response = HttpResponse(export_csv(self.supplier, kind), content_type="text/csv; charset=utf-8")
        filename = f"katalog-{slugify(self.supplier.display_name) or 'lieferant'}-{name}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class CatalogueImportView(CatalogueView):
    """Checks the whole file; applies it only when every row is valid (and not a dry run)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        form = CatalogueImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(import_form=form))
        kind, dry_run = form.cleaned_data["kind"], form.cleaned_data["dry_run"]
        outcome = import_csv(self.supplier, kind, form.cleaned_data["file"].read(), dry_run=dry_run)
        logger.info(
            "catalogue import supplier=%s kind=%s dry_run=%s ok=%s created=%d updated=%d deleted=%d",
            self.supplier.pk, kind, dry_run, outcome.ok, outcome.created, outcome.updated, outcome.deleted,
        )
        if not outcome.ok:
            return self.render_to_response(
                self.get_context_data(import_form=form, import_errors=outcome.errors)
            )
        counts = {"created": outcome.created, "updated": outcome.updated, "deleted": outcome.deleted}
        if dry_run:
            messages.info(request, _(
                "Die Datei ist in Ordnung. Beim Import würden %(created)d Zeilen neu angelegt, "
                "%(updated)d aktualisiert und %(deleted)d entfernt. Es wurde nichts geändert."
            ) % counts)
        else:
            messages.success(request, _(
                "Import abgeschlossen: %(created)d neu, %(updated)d aktualisiert, %(deleted)d entfernt."
            ) % counts)
        return redirect(self.catalogue_url())
