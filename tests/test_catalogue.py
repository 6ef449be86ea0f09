"""Lab catalogues: offered values, refused values, limits between fields, lab codes, dates."""

from datetime import date, timedelta

import pytest

from suppliers.catalogue import catalogue_errors, lab_codes, offered
from suppliers.models import CatalogueEntry, CatalogueRule
from tests.factories import bte_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(dreve_supplier):
    for value, code in (("shell", "D-SCH"), ("canal", "D-STO")):
        CatalogueEntry.objects.create(supplier=dreve_supplier, field="style", value=value, code=code)
    CatalogueEntry.objects.create(
        supplier=dreve_supplier, field="material", value="acrylic", code="D-ACR", valid_until=date(2020, 1, 1)
    )
    CatalogueRule.objects.create(supplier=dreve_supplier, style="shell", max_vent_mm="2.0")
    return dreve_supplier


def test_only_offered_values_pass(catalogue):
    assert catalogue_errors(catalogue, bte_item(style="shell", material="silicone")) == {}
    errors = catalogue_errors(catalogue, bte_item(style="half_shell"))
    assert set(errors) == {"style"} and "half_shell" in errors["style"]


def test_expired_entries_restrict_nothing_more(catalogue):
    assert "material" not in offered(catalogue)
    assert "material" in offered(catalogue, date(2019, 6, 1))


def test_rules_limit_the_vent(catalogue):
    errors = catalogue_errors(catalogue, bte_item(style="shell", vent_diameter_mm="2.5"))
    assert "höchstens 2,0 mm" in errors["vent_diameter_mm"]
    assert catalogue_errors(catalogue, bte_item(style="shell", vent_diameter_mm="1.5")) == {}


def test_lab_codes(catalogue):
    assert lab_codes(catalogue, bte_item(style="canal")) == {"style": "D-STO"}


def test_future_rule_not_yet_applied(dreve_supplier):
    CatalogueRule.objects.create(supplier=dreve_supplier, max_vent_mm="0.5", valid_from=date.today() + timedelta(days=3))
    assert catalogue_errors(dreve_supplier, bte_item(vent_diameter_mm="1.5")) == {}
