"""Branch administration for the ETA: a supplier's turnaround, shipping days and carrier, a
branch's Bundesland; bounded, with German messages; the same through the API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from branches.models import Branch
from suppliers.models import Supplier
from tests import factories as f
from tests.test_branch_admin import supplier_data


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_supplier_form_records_turnaround_shipping_and_carrier(as_user, dave, dreve):
    client = as_user(dave)
    response = client.post(
        reverse("branches:supplier_create"),
        supplier_data(dreve, turnaround_days="6", shipping_days="2", carrier="dpd"),
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get()
    assert (supplier.turnaround_days, supplier.shipping_days, supplier.carrier) == (6, 2, "dpd")
    listing = client.get(reverse("branches:supplier_list")).content.decode()
    assert "6 + 2" in listing and "DPD" in listing
    form_html = client.get(reverse("branches:supplier_edit", args=[supplier.pk])).content.decode()
    assert "Fertigungszeit (Werktage)" in form_html and "Versanddienstleister" in form_html


def test_empty_turnaround_means_the_delivery_days(as_user, dave, dreve):
    client = as_user(dave)
    assert client.post(reverse("branches:supplier_create"), supplier_data(dreve)).status_code == 302
    supplier = Supplier.objects.get()
    assert supplier.turnaround_days is None
    assert "wie Lieferzeit" in client.get(reverse("branches:supplier_list")).content.decode()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("turnaround_days", "101", "kleiner oder gleich 100"),
        ("turnaround_days", "-1", "größer oder gleich 0"),
        ("turnaround_days", "zehn", "ganze Zahl"),
        ("shipping_days", "31", "kleiner oder gleich 30"),
        ("shipping_days", "", "Dieses Feld ist zwingend erforderlich"),
        ("delivery_days", "1000", "kleiner oder gleich 100"),
        ("carrier", "fedex", "gültige Auswahl"),
        ("turnaround_days", "9" * 40, "kleiner oder gleich 100"),
        ("remake_fit_days", "731", "kleiner oder gleich 730"),
        ("remake_fit_days", "-1", "größer oder gleich 0"),
        ("remake_fit_days", "", "zwingend erforderlich"),
        ("remake_material_months", "61", "kleiner oder gleich 60"),
        ("remake_material_months", "zwölf", "ganze Zahl"),
        ("remake_conditions", "x" * 2001, "höchstens 2000 Zeichen"),
    ],
)
def test_supplier_days_carrier_and_remake_window_are_bounded_with_german_messages(as_user, dave, dreve, field, value, message):
    response = as_user(dave).post(reverse("branches:supplier_create"), supplier_data(dreve, **{field: value}))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Supplier.objects.exists()


def test_api_supplier_carries_the_new_fields_and_bounds_them(dave, dreve):
    api = APIClient()
    api.force_authenticate(dave)
    body = {"company": str(dreve.pk), "order_method": "email", "order_email": "a@lab.test", "turnaround_days": 5,
            "shipping_days": 2, "carrier": "gls"}
    created = api.post("/api/v1/suppliers/", body, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["turnaround_days"], created.json()["shipping_days"], created.json()["carrier"]) == (5, 2, "gls")
    refused = api.post("/api/v1/suppliers/", {**body, "shipping_days": 99, "carrier": "fedex"}, format="json")
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert "kleiner oder gleich 30" in " ".join(errors["shipping_days"]) and "carrier" in errors


# --- suppliers: the free-remake window ----------------------------------------------------


def test_supplier_form_records_the_free_remake_window_and_conditions(as_user, dave, dreve):
    client = as_user(dave)
    response = client.post(
        reverse("branches:supplier_create"),
        supplier_data(dreve, remake_fit_days="120", remake_material_months="6", remake_conditions="Alte Otoplastik zurück"),
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get()
    assert (supplier.remake_fit_days, supplier.remake_material_months) == (120, 6)
    assert supplier.remake_conditions == "Alte Otoplastik zurück"
    form_html = client.get(reverse("branches:supplier_edit", args=[supplier.pk])).content.decode()
    assert "Kostenlose Nachfertigung Passform (Tage)" in form_html and "Bedingungen" in form_html


def test_a_new_supplier_has_the_usual_windows(dreve):
    supplier = Supplier.objects.create(company=dreve, order_email="a@lab.test")
    assert (supplier.remake_fit_days, supplier.remake_material_months, supplier.remake_conditions) == (90, 12, "")


def test_api_supplier_carries_the_free_remake_window(dave, dreve):
    api = APIClient()
    api.force_authenticate(dave)
    body = {"company": str(dreve.pk), "order_method": "email", "order_email": "a@lab.test", "remake_fit_days": 100,
            "remake_material_months": 24, "remake_conditions": "nur mit Auftragsnummer"}
    created = api.post("/api/v1/suppliers/", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["remake_fit_days"], data["remake_material_months"], data["remake_conditions"]) == (
        100, 24, "nur mit Auftragsnummer")
    refused = api.post("/api/v1/suppliers/", {**body, "remake_material_months": 999}, format="json")
    assert refused.status_code == 400
    assert "kleiner oder gleich 60" in " ".join(refused.json()["errors"]["remake_material_months"])


# --- branches: the Bundesland ---------------------------------------------------------------


def branch_data(branch, **overrides):
    data = {"name": branch.name, "code": branch.code, "street": branch.street, "postal_code": branch.postal_code,
            "city": branch.city, "phone": branch.phone, "email": branch.email, "state": branch.state}
    data.update(overrides)
    return data


def test_branch_admin_sets_the_bundesland_of_their_branch(as_user, carol, mitte, nord):
    client = as_user(carol)
    listing = client.get(reverse("branches:branch_list")).content.decode()
    assert "Filiale Mitte" in listing and "Filiale Nord" not in listing and "Nordrhein-Westfalen" in listing
    response = client.post(reverse("branches:branch_edit", args=[mitte.pk]), branch_data(mitte, state="SN"))
    assert response.status_code == 302
    mitte.refresh_from_db()
    assert mitte.state == "SN"
    assert "Sachsen" in client.get(reverse("branches:branch_list")).content.decode()
    # Another branch is not theirs to edit.
    assert client.get(reverse("branches:branch_edit", args=[nord.pk])).status_code == 404
    assert client.post(reverse("branches:branch_edit", args=[nord.pk]), branch_data(nord, state="BY")).status_code == 404
    nord.refresh_from_db()
    assert nord.state == "NW"


def test_chain_admin_edits_every_branch_of_the_chain(as_user, dave, mitte, nord):
    client = as_user(dave)
    listing = client.get(reverse("branches:branch_list")).content.decode()
    assert "Filiale Mitte" in listing and "Filiale Nord" in listing
    assert client.post(reverse("branches:branch_edit", args=[nord.pk]), branch_data(nord, state="HH")).status_code == 302
    nord.refresh_from_db()
    assert nord.state == "HH"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("state", "XX", "gültige Auswahl"),
        ("state", "", "zwingend erforderlich"),
        ("name", "Filiale Nord", "bereits eine Filiale „Filiale Nord“"),
        ("name", "x" * 201, "höchstens 200 Zeichen"),
        ("email", "keine-adresse", "gültige E-Mail"),
    ],
)
def test_branch_form_refuses_bad_values_in_german(as_user, dave, mitte, nord, field, value, message):
    response = as_user(dave).post(reverse("branches:branch_edit", args=[mitte.pk]), branch_data(mitte, **{field: value}))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert Branch.objects.get(pk=mitte.pk).state == "NW"


def test_staff_do_not_enter_branch_editing(as_user, alice, mitte):
    assert as_user(alice).get(reverse("branches:branch_edit", args=[mitte.pk])).status_code == 403


def test_api_branch_shows_its_state(alice, mitte):
    api = APIClient()
    api.force_authenticate(alice)
    assert api.get(f"/api/v1/branches/{mitte.pk}/").json()["state"] == "NW"


def test_the_state_changes_the_eta_of_the_next_order(mitte):
    from datetime import date

    from otoorder.orders.schedule import add_working_days

    mitte.state = "NI"
    mitte.save()
    assert add_working_days(date(2026, 6, 3), 1, Branch.objects.get(pk=mitte.pk).state) == date(2026, 6, 4)


def test_branch_list_is_in_the_navigation(as_user, carol):
    html = as_user(carol).get(reverse("branches:home")).content.decode()
    assert reverse("branches:branch_list") in html


@pytest.fixture(autouse=True)
def _db(db):
    return f
