"""Catalogue CSV: export, edit, import round trip; an invalid row reports its line and imports nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from suppliers.models import CatalogueEntry, CatalogueRule
from suppliers.resources import ENTRIES, RULES, export_csv, import_csv
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def german():
    with translation.override("de"):
        yield


@pytest.fixture
def catalogue(dreve_supplier):
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="style", value="shell", code="D-SCH", label="Schale")
    CatalogueEntry.objects.create(supplier=dreve_supplier, field="style", value="canal", code="D-STO")
    CatalogueEntry.objects.create(
        supplier=dreve_supplier, field="material", value="acrylic", code="D-ACR", valid_until=date(2027, 12, 31)
    )
    CatalogueRule.objects.create(supplier=dreve_supplier, style="shell", max_vent_mm="2.0", note="Schale")
    return dreve_supplier


def snapshot(supplier):
    return sorted(CatalogueEntry.objects.filter(supplier=supplier).values_list("field", "value", "code", "label", "valid_from", "valid_until"))


def test_entries_round_trip(catalogue):
    text = export_csv(catalogue, ENTRIES)
    lines = text.strip().splitlines()
    assert lines[0] == "field,value,code,label,valid_from,valid_until"
    assert "material,acrylic,D-ACR,,,2027-12-31" in lines
    # Edit: new code for "shell", drop "canal", add "half_shell" valid from a German date.
    edited = [line.replace("D-SCH", "D-SCH2") for line in lines if ",canal," not in line]
    edited.append("style,half_shell,D-HS,Halbschale,01.02.2027,")
    outcome = import_csv(catalogue, ENTRIES, "\n".join(edited).encode())
    assert outcome.ok, outcome.errors
    assert (outcome.created, outcome.updated, outcome.deleted) == (1, 2, 1)
    assert snapshot(catalogue) == [
        ("material", "acrylic", "D-ACR", "", None, date(2027, 12, 31)),
        ("style", "half_shell", "D-HS", "Halbschale", date(2027, 2, 1), None),
        ("style", "shell", "D-SCH2", "Schale", None, None),
    ]


def test_reimporting_the_export_changes_nothing(catalogue):
    before = snapshot(catalogue)
    outcome = import_csv(catalogue, ENTRIES, export_csv(catalogue, ENTRIES).encode())
    assert outcome.ok and outcome.deleted == 0 and snapshot(catalogue) == before


def test_rules_round_trip(catalogue):
    text = export_csv(catalogue, RULES)
    assert text.splitlines()[0] == "style,material,max_vent_mm,note,valid_from,valid_until"
    text += ",silicone,\"1,5\",weich,,\n"
    outcome = import_csv(catalogue, RULES, text.encode())
    assert outcome.ok, outcome.errors
    rules = sorted(CatalogueRule.objects.filter(supplier=catalogue).values_list("style", "material", "max_vent_mm"))
    assert rules == [("", "silicone", Decimal("1.5")), ("shell", "", Decimal("2.0"))]


def test_semicolon_and_bom_from_a_spreadsheet(dreve_supplier):
    data = "\ufefffield;value;code\r\nstyle;shell;X1\r\n;;\r\n".encode("utf-8")
    outcome = import_csv(dreve_supplier, ENTRIES, data)
    assert outcome.ok, outcome.errors
    assert snapshot(dreve_supplier) == [("style", "shell", "X1", "", None, None)]


@pytest.mark.parametrize(
    "row, line, words",
    [
        ("style,banana,X,,,", 3, ["Spalte „value“", "banana", "kein Wert des Felds Bauform"]),
        ("style,half_shell,X,,2027-13-45,", 3, ["Spalte „valid_from“", "kein Datum"]),
        ("hardness,40,X,,,", 3, ["Spalte „field“", "Unbekanntes Feld „hardness“"]),
        ("style,half_shell,X,,2027-05-01,2027-01-01", 3, ["„gültig bis“ darf nicht vor „gültig ab“"]),
        ("style,half_shell,,,,", 3, ["Spalte „code“"]),
        ("style,shell,X,,,", 3, ["Zeile 2"]),
    ],
)
def test_invalid_row_reports_its_line_and_imports_nothing(catalogue, row, line, words):
    before = snapshot(catalogue)
    data = f"field,value,code,label,valid_from,valid_until\nstyle,shell,NEU,,,\n{row}\nstyle,cic,C,,,\n"
    outcome = import_csv(catalogue, ENTRIES, data.encode())
    assert not outcome.ok
    assert [number for number, _message in outcome.errors] == [line]
    for word in words:
        assert word in outcome.errors[0][1]
    assert snapshot(catalogue) == before


def test_invalid_rule_row_keeps_the_rules(catalogue):
    data = "style,material,max_vent_mm\nshell,,1.0\nbanana,,1.0\n,silicone,viel\n"
    outcome = import_csv(catalogue, RULES, data.encode())
    assert [number for number, _m in outcome.errors] == [3, 4]
    assert "Unbekannte Bauform „banana“" in outcome.errors[0][1]
    assert "keine Zahl" in outcome.errors[1][1]
    assert list(CatalogueRule.objects.filter(supplier=catalogue).values_list("max_vent_mm", flat=True)) == [Decimal("2.0")]


def test_header_errors(catalogue):
    outcome = import_csv(catalogue, ENTRIES, b"field,wert,code\nstyle,shell,X\n")
    assert outcome.errors[0][0] == 1 and "wert" in outcome.errors[0][1]
    assert import_csv(catalogue, ENTRIES, b"").errors[0][0] == 1


def test_dry_run_changes_nothing(catalogue):
    before = snapshot(catalogue)
    outcome = import_csv(catalogue, ENTRIES, b"field,value,code\nstyle,cic,C\n", dry_run=True)
    assert outcome.ok and outcome.created == 1 and outcome.deleted == 3
    assert snapshot(catalogue) == before


def test_header_only_empties_the_catalogue(catalogue):
    assert import_csv(catalogue, ENTRIES, b"field,value,code\n").deleted == 3
    assert import_csv(catalogue, RULES, b"max_vent_mm\n").deleted == 1
    assert not CatalogueEntry.objects.exists() and not CatalogueRule.objects.exists()


def test_windows_1252_from_an_old_spreadsheet(dreve_supplier):
    outcome = import_csv(dreve_supplier, ENTRIES, "field;value;code;label\nstyle;canal;S1;Stöpsel\n".encode("cp1252"))
    assert outcome.ok, outcome.errors
    assert CatalogueEntry.objects.get().label == "Stöpsel"
