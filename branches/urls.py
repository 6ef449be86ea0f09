from django.urls import path

from . import catalogue_views, views

app_name = "branches"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("schnittstellen/", views.DefinitionListView.as_view(), name="definition_list"),
    path("schnittstellen/neu/", views.DefinitionCreateView.as_view(), name="definition_create"),
    path("schnittstellen/optionen/", views.DefinitionOptionsView.as_view(), name="definition_options"),
    path("schnittstellen/<uuid:pk>/", views.DefinitionUpdateView.as_view(), name="definition_edit"),
    path(
        "schnittstellen/<uuid:pk>/verbindung-testen/",
        views.DefinitionTestConnectionView.as_view(),
        name="definition_test",
    ),
    path("firmen/", views.CompanyListView.as_view(), name="company_list"),
    path("firmen/neu/", views.CompanyCreateView.as_view(), name="company_create"),
    path("firmen/<uuid:pk>/", views.CompanyUpdateView.as_view(), name="company_edit"),
    path("lieferanten/", views.SupplierListView.as_view(), name="supplier_list"),
    path("lieferanten/neu/", views.SupplierCreateView.as_view(), name="supplier_create"),
    path("lieferanten/<uuid:pk>/", views.SupplierUpdateView.as_view(), name="supplier_edit"),
    path("lieferanten/<uuid:pk>/katalog/", catalogue_views.CatalogueView.as_view(), name="catalogue"),
    path("lieferanten/<uuid:pk>/katalog/eintraege/neu/", catalogue_views.EntryCreateView.as_view(), name="catalogue_entry_create"),
    path("lieferanten/<uuid:pk>/katalog/eintraege/<int:item>/", catalogue_views.EntryUpdateView.as_view(), name="catalogue_entry_edit"),
    path("lieferanten/<uuid:pk>/katalog/eintraege/<int:item>/loeschen/", catalogue_views.EntryDeleteView.as_view(), name="catalogue_entry_delete"),
    path("lieferanten/<uuid:pk>/katalog/regeln/neu/", catalogue_views.RuleCreateView.as_view(), name="catalogue_rule_create"),
    path("lieferanten/<uuid:pk>/katalog/regeln/<int:item>/", catalogue_views.RuleUpdateView.as_view(), name="catalogue_rule_edit"),
    path("lieferanten/<uuid:pk>/katalog/regeln/<int:item>/loeschen/", catalogue_views.RuleDeleteView.as_view(), name="catalogue_rule_delete"),
    path("lieferanten/<uuid:pk>/katalog/export/<str:kind>.csv", catalogue_views.CatalogueExportView.as_view(), name="catalogue_export"),
    path("lieferanten/<uuid:pk>/katalog/import/", catalogue_views.CatalogueImportView.as_view(), name="catalogue_import"),
    path("filialen/", views.BranchListView.as_view(), name="branch_list"),
    path("filialen/<uuid:pk>/", views.BranchUpdateView.as_view(), name="branch_edit"),
    path("kundennummern/", views.AccountListView.as_view(), name="account_list"),
    path("kundennummern/neu/", views.AccountCreateView.as_view(), name="account_create"),
    path("kundennummern/<int:pk>/", views.AccountUpdateView.as_view(), name="account_edit"),
    path("kundennummern/<int:pk>/loeschen/", views.AccountDeleteView.as_view(), name="account_delete"),
]
