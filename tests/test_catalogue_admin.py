"""Lab catalogues in branch administration: chain admins list, create, edit, delete, export and
import; everyone else is refused."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from suppliers.models import CatalogueEntry, CatalogueRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(dreve_supplier):
    return CatalogueEntry.objects.create(
        supplier=dreve_supplier, field="style", value="shell", code="D-SCH", label="Schale Dreve"
    )


@pytest.fixture
def rule(dreve_supplier):
    return CatalogueRule.objects.create(supplier=dreve_supplier, style="shell", max_vent_mm="2.0", note="eng")


@pytest.fixture
def admin_client(client, dave):
    client.force_login(dave)
    return client


def url(name, supplier, *args):
    return reverse(f"branches:{name}", args=[supplier.pk, *args])


def test_lists_entries_and_rules_with_labels(admin_client, dreve_supplier, entry, rule):
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="colour", value="beige", code="B1", valid_until=date(2020, 1, 1))
    page = admin_client.get(url("catalogue", dreve_supplier)).content.decode()
    assert "Bauform" in page and "Schale" in page and "D-SCH" in page and "Schale Dreve" in page
    assert "Farbe" in page and "beige" in page and "bis 01.01.2020" in page and "abgelaufen" in page
    assert "2,0 mm" in page
    assert "jedes Material" in page


def test_supplier_list_and_home_link_to_catalogues(admin_client, dreve_supplier):
    assert url("catalogue", dreve_supplier) in admin_client.get(reverse("branches:supplier_list")).content.decode()
    assert "Laborkataloge" in admin_client.get(reverse("branches:home")).content.decode()


@pytest.mark.parametrize("user", ["alice", "carol"])
def test_only_chain_admins(client, request, dreve_supplier, entry, rule, user):
    client.force_login(request.getfixturevalue(user))
    for name, args in [
        ("catalogue", []), ("catalogue_entry_create", []), ("catalogue_entry_edit", [entry.pk]),
        ("catalogue_entry_delete", [entry.pk]), ("catalogue_rule_create", []), ("catalogue_rule_edit", [rule.pk]),
        ("catalogue_rule_delete", [rule.pk]), ("catalogue_export", ["entries"]),
    ]:
        assert client.get(url(name, dreve_supplier, *args)).status_code == 403, name
    assert client.post(url("catalogue_entry_delete", dreve_supplier, entry.pk)).status_code == 403
    assert client.post(url("catalogue_import", dreve_supplier), {"kind": "entries"}).status_code == 403
    assert CatalogueEntry.objects.filter(pk=entry.pk).exists()


def test_anonymous_is_sent_to_login(client, dreve_supplier):
    assert client.get(url("catalogue", dreve_supplier)).status_code == 302


def test_create_edit_delete_entry(admin_client, dreve_supplier):
    response = admin_client.post(url("catalogue_entry_create", dreve_supplier), {
        "field": "material", "value": "silicone", "code": "D-SIL", "label": "Silikon 40",
        "valid_from": "2026-01-01", "valid_until": "",
    })
    assert response.status_code == 302
    entry = CatalogueEntry.objects.get(supplier=dreve_supplier, field="material")
    assert (entry.value, entry.code, entry.valid_from) == ("silicone", "D-SIL", date(2026, 1, 1))
    response = admin_client.post(url("catalogue_entry_edit", dreve_supplier, entry.pk), {
        "field": "material", "value": "silicone", "code": "D-SIL2", "label": "", "valid_from": "", "valid_until": "",
    })
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.code == "D-SIL2" and entry.valid_from is None
    assert admin_client.get(url("catalogue_entry_delete", dreve_supplier, entry.pk)).status_code == 200
    assert admin_client.post(url("catalogue_entry_delete", dreve_supplier, entry.pk)).status_code == 302
    assert not CatalogueEntry.objects.exists()


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"field": "style", "value": "banana"}, "value", "kein Wert des Felds Bauform"),
        ({"field": "tube", "value": "shell"}, "value", "kein Wert des Felds Schlauch"),
        ({"field": "style", "value": "canal", "valid_from": "2026-05-01", "valid_until": "2026-04-01"},
         "valid_until", "darf nicht vor „gültig ab“ liegen"),
        ({"field": "style", "value": "shell"}, "value", "schon eingetragen"),
        ({"field": "hardness", "value": "40"}, "field", "gültige Auswahl"),
    ],
)
def test_entry_validation_in_german(admin_client, dreve_supplier, entry, data, field, words):
    response = admin_client.post(url("catalogue_entry_create", dreve_supplier), {"code": "X", **data})
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors[field])
    assert CatalogueEntry.objects.count() == 1


def test_colour_is_free_text(admin_client, dreve_supplier):
    response = admin_client.post(url("catalogue_entry_create", dreve_supplier), {"field": "colour", "value": "Hautfarben 3", "code": "F3"})
    assert response.status_code == 302
    assert CatalogueEntry.objects.get(field="colour").value == "Hautfarben 3"


def test_entry_of_another_supplier_is_not_found(admin_client, dreve_supplier, entry):
    from tests.factories import SupplierFactory

    other = SupplierFactory()
    assert admin_client.get(url("catalogue_entry_edit", other, entry.pk)).status_code == 404


def test_create_edit_delete_rule(admin_client, dreve_supplier):
    response = admin_client.post(url("catalogue_rule_create", dreve_supplier), {
        "style": "", "material": "silicone", "max_vent_mm": "1,5", "note": "weich",
    })
    assert response.status_code == 302, response.context["form"].errors
    rule = CatalogueRule.objects.get()
    assert (rule.style, rule.material, str(rule.max_vent_mm)) == ("", "silicone", "1.5")
    response = admin_client.post(url("catalogue_rule_edit", dreve_supplier, rule.pk), {
        "style": "canal", "material": "", "max_vent_mm": "1.0", "valid_from": "2026-02-01", "valid_until": "2026-01-01",
    })
    assert response.status_code == 200
    assert "darf nicht vor" in " ".join(response.context["form"].errors["valid_until"])
    admin_client.post(url("catalogue_rule_delete", dreve_supplier, rule.pk))
    assert not CatalogueRule.objects.exists()


def test_export_and_import_through_the_page(admin_client, dreve_supplier, entry):
    response = admin_client.get(url("catalogue_export", dreve_supplier, "entries"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode().replace("D-SCH", "D-NEU")
    upload = SimpleUploadedFile("katalog.csv", text.encode(), content_type="text/csv")
    response = admin_client.post(url("catalogue_import", dreve_supplier), {"kind": "entries", "file": upload}, follow=True)
    assert "Import abgeschlossen: 0 neu, 1 aktualisiert, 0 entfernt." in response.content.decode()
    entry.refresh_from_db()
    assert entry.code == "D-NEU"


def test_import_with_an_invalid_row_shows_the_line_and_changes_nothing(admin_client, dreve_supplier, entry):
    data = b"field,value,code\nstyle,shell,NEU\nstyle,banane,B\n"
    upload = SimpleUploadedFile("katalog.csv", data, content_type="text/csv")
    response = admin_client.post(url("catalogue_import", dreve_supplier), {"kind": "entries", "file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "es wurde nichts geändert" in page and "Zeile 3" in page and "banane" in page
    entry.refresh_from_db()
    assert entry.code == "D-SCH"


def test_dry_run_reports_and_keeps(admin_client, dreve_supplier, entry):
    upload = SimpleUploadedFile("katalog.csv", b"field,value,code\nstyle,canal,C\n", content_type="text/csv")
    response = admin_client.post(
        url("catalogue_import", dreve_supplier), {"kind": "entries", "file": upload, "dry_run": "on"}, follow=True
    )
    assert "1 Zeilen neu angelegt, 0 aktualisiert und 1 entfernt" in response.content.decode()
    assert list(CatalogueEntry.objects.values_list("value", flat=True)) == ["shell"]
