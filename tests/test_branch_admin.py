"""Branch administration (Filialverwaltung) in the browser, through the Django test client."""

import socket

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.urls import reverse

from branches.models import InterfaceDefinition, SupplierAccount
from otoorder.backends import registry
from otoorder.backends.base import BaseBackend
from otoorder.backends.options import Option
from suppliers.models import Company, Supplier
from tests import factories as f
from tests.unavailable_backend import unavailable_backend  # noqa: F401 - fixture

SECRET = "s3cr3t-Passwort-42"


class SecretTestBackend(BaseBackend):
    """A small backend with a secret option (none of the available ones has one yet)."""

    key = "test_secret"
    label = "Testschnittstelle mit Passwort"
    options = (
        Option("url", "Adresse", kind="url"),
        Option("password", "Passwort", secret=True),
    )

    def check_connection(self):
        return "Testschnittstelle erreichbar."


@pytest.fixture
def secret_backend():
    registry.BACKENDS["test_secret"] = (f"{__name__}.SecretTestBackend", SecretTestBackend.label)
    registry.get_backend_class.cache_clear()
    yield SecretTestBackend
    del registry.BACKENDS["test_secret"]
    registry.get_backend_class.cache_clear()


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def definition_data(**overrides):
    data = {"name": "Dreve per E-Mail", "backend": "standard", "branch": "", "active_from": "", "is_active": "on"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- access -------------------------------------------------------------------------------

ADMIN_URLS = [
    ("branches:home", []),
    ("branches:definition_list", []),
    ("branches:definition_create", []),
    ("branches:definition_options", []),
    ("branches:company_list", []),
    ("branches:supplier_create", []),
    ("branches:account_list", []),
    ("branches:account_create", []),
]


@pytest.mark.parametrize("name,args", ADMIN_URLS)
def test_anonymous_is_sent_to_login(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name,args", ADMIN_URLS)
def test_staff_get_403(as_user, alice, name, args):
    assert as_user(alice).get(reverse(name, args=args)).status_code == 403


def test_staff_cannot_post_definitions(as_user, alice):
    response = as_user(alice).post(reverse("branches:definition_create"), definition_data())
    assert response.status_code == 403
    assert not InterfaceDefinition.objects.exists()


def test_home_links_by_role(as_user, carol, dave):
    html = as_user(carol).get(reverse("branches:home")).content.decode()
    assert reverse("branches:definition_list") in html
    assert reverse("branches:account_list") in html
    assert reverse("branches:supplier_list") not in html
    html = as_user(dave).get(reverse("branches:home")).content.decode()
    assert reverse("branches:supplier_list") in html and reverse("branches:company_list") in html


def test_branch_admin_cannot_open_companies_or_suppliers(as_user, carol):
    client = as_user(carol)
    assert client.get(reverse("branches:company_list")).status_code == 403
    assert client.get(reverse("branches:supplier_list")).status_code == 403
    assert client.post(reverse("branches:company_create"), {"name": "X"}).status_code == 403
    assert not Company.objects.filter(name="X").exists()


# --- interface definitions ----------------------------------------------------------------


def test_chain_admin_creates_standard_definition_with_companies_and_options(as_user, dave, dreve, dreve_supplier, mitte):
    other = f.CompanyFactory(name="Egger")
    response = as_user(dave).post(
        reverse("branches:definition_create"),
        definition_data(
            companies=[str(dreve.pk), str(other.pk)],
            supplier=str(dreve_supplier.pk),
            branch=str(mitte.pk),
            active_from="2024-01-01",
            opt_from_email="bestellung@hoerwelt.test",
            opt_cc="",
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    definition = InterfaceDefinition.objects.get()
    assert definition.chain == mitte.chain
    assert definition.branch == mitte
    assert definition.supplier == dreve_supplier
    assert set(definition.companies.all()) == {dreve, other}
    assert definition.options == {"from_email": "bestellung@hoerwelt.test"}
    assert definition.secrets == {}
    assert str(definition.active_from) == "2024-01-01"

    listing = as_user(dave).get(reverse("branches:definition_list")).content.decode()
    assert "Dreve per E-Mail" in listing and "Standard Bestellprozess" in listing
    assert "Egger" in listing and "Filiale Mitte" in listing

    edit = as_user(dave).get(response.url).content.decode()
    assert 'value="bestellung@hoerwelt.test"' in edit
    assert "Verbindung testen" in edit


def test_chain_wide_general_definition_is_listed_as_such(as_user, dave):
    response = as_user(dave).post(reverse("branches:definition_create"), definition_data())
    assert response.status_code == 302
    listing = as_user(dave).get(reverse("branches:definition_list")).content.decode()
    assert "alle Filialen" in listing and "allgemein" in listing


def test_secret_values_are_never_rendered(as_user, dave, secret_backend):
    client = as_user(dave)
    # An invalid submission must not echo the secret either.
    invalid = client.post(
        reverse("branches:definition_create"),
        definition_data(name="", backend="test_secret", opt_url="http://127.0.0.1:9/", opt_password=SECRET),
    )
    assert invalid.status_code == 200
    assert SECRET not in invalid.content.decode()
    assert not InterfaceDefinition.objects.exists()

    response = client.post(
        reverse("branches:definition_create"),
        definition_data(name="Mit Passwort", backend="test_secret", opt_url="http://127.0.0.1:9/", opt_password=SECRET),
    )
    assert response.status_code == 302, response.context["form"].errors
    definition = InterfaceDefinition.objects.get()
    assert definition.secrets == {"password": SECRET}
    assert "password" not in definition.options
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM branches_interfacedefinition")
        assert SECRET not in str(cursor.fetchone()[0])

    pages = [
        client.get(response.url),
        client.get(reverse("branches:definition_list")),
        client.get(reverse("branches:definition_options"), {"backend": "test_secret", "definition": definition.pk}),
        client.get(reverse("branches:home")),
    ]
    for page in pages:
        assert page.status_code == 200
        assert SECRET not in page.content.decode()
    edit = pages[0].content.decode()
    assert "gespeichert – leer lassen, um den Wert zu behalten" in edit
    assert 'type="password"' in edit

    # Saving with the secret left empty keeps it.
    kept = client.post(response.url, definition_data(name="Mit Passwort", backend="test_secret", opt_url="http://127.0.0.1:9/", opt_password=""))
    assert kept.status_code == 302
    assert SECRET not in client.get(kept.url).content.decode()
    definition.refresh_from_db()
    assert definition.secrets == {"password": SECRET}


def test_missing_secret_is_a_field_error(as_user, dave, secret_backend):
    response = as_user(dave).post(
        reverse("branches:definition_create"),
        definition_data(backend="test_secret", opt_url="http://127.0.0.1:9/", opt_password=""),
    )
    assert response.status_code == 200
    assert "opt_password" in response.context["form"].errors
    assert not InterfaceDefinition.objects.exists()


def test_tie_is_refused_naming_the_first(as_user, dave, dreve):
    client = as_user(dave)
    first = client.post(reverse("branches:definition_create"), definition_data(name="Erste Dreve", companies=[str(dreve.pk)]))
    assert first.status_code == 302
    second = client.post(reverse("branches:definition_create"), definition_data(name="Zweite Dreve", companies=[str(dreve.pk)]))
    assert second.status_code == 200
    errors = second.context["form"].errors
    assert "companies" in errors and "Erste Dreve" in errors["companies"][0]
    assert "Erste Dreve" in second.content.decode()
    assert InterfaceDefinition.objects.count() == 1


def test_unavailable_backend_is_refused(as_user, dave, unavailable_backend):
    response = as_user(dave).post(reverse("branches:definition_create"), definition_data(backend=unavailable_backend))
    assert response.status_code == 200
    assert "noch nicht verfügbar" in response.context["form"].errors["backend"][0]
    assert not InterfaceDefinition.objects.exists()


def test_unknown_backend_is_refused(as_user, dave):
    response = as_user(dave).post(reverse("branches:definition_create"), definition_data(backend="faxomat_3000"))
    assert response.status_code == 200
    assert "backend" in response.context["form"].errors
    assert not InterfaceDefinition.objects.exists()


def test_invalid_options_show_field_errors_and_create_nothing(as_user, dave):
    response = as_user(dave).post(
        reverse("branches:definition_create"), definition_data(opt_from_email="keine-adresse", opt_reply_to="auch nicht")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "opt_from_email" in errors and "opt_reply_to" in errors
    assert "Keine gültige E-Mail-Adresse." in response.content.decode()
    assert not InterfaceDefinition.objects.exists()


def test_options_partial_follows_backend(as_user, dave, secret_backend, unavailable_backend):
    client = as_user(dave)
    standard = client.get(reverse("branches:definition_options"), {"backend": "standard"}).content.decode()
    assert 'name="opt_from_email"' in standard
    secret = client.get(reverse("branches:definition_options"), {"backend": "test_secret"}).content.decode()
    assert 'name="opt_password"' in secret and 'name="opt_from_email"' not in secret
    unavailable = client.get(reverse("branches:definition_options"), {"backend": unavailable_backend}).content.decode()
    assert "noch nicht verfügbar" in unavailable
    full = client.get(reverse("branches:definition_create"), {"backend": "test_secret"}).content.decode()
    assert 'name="opt_password"' in full


def test_branch_admin_scope(as_user, carol, chain, mitte, nord):
    chain_wide = f.InterfaceDefinitionFactory(chain=chain, name="Kettenweit")
    at_nord = f.InterfaceDefinitionFactory(chain=chain, branch=nord, name="Nur Nord")
    at_mitte = f.InterfaceDefinitionFactory(chain=chain, branch=mitte, name="Nur Mitte")
    client = as_user(carol)

    listing = client.get(reverse("branches:definition_list")).content.decode()
    assert "Kettenweit" in listing and "Nur Mitte" in listing and "Nur Nord" not in listing
    assert reverse("branches:definition_edit", args=[chain_wide.pk]) not in listing

    assert client.get(reverse("branches:definition_edit", args=[chain_wide.pk])).status_code == 403
    assert client.get(reverse("branches:definition_edit", args=[at_nord.pk])).status_code == 404
    assert client.post(reverse("branches:definition_edit", args=[chain_wide.pk]), definition_data(name="Gekapert")).status_code == 403
    assert client.post(reverse("branches:definition_test", args=[at_nord.pk])).status_code == 404
    assert client.get(reverse("branches:definition_edit", args=[at_mitte.pk])).status_code == 200
    chain_wide.refresh_from_db()
    assert chain_wide.name == "Kettenweit"


def test_branch_admin_creates_only_for_own_branch(as_user, carol, mitte, nord):
    client = as_user(carol)
    chain_wide = client.post(reverse("branches:definition_create"), definition_data(name="Für alle"))
    assert chain_wide.status_code == 200
    assert "Kettenadministrator" in chain_wide.context["form"].errors["branch"][0]

    foreign = client.post(reverse("branches:definition_create"), definition_data(name="Für Nord", branch=str(nord.pk)))
    assert foreign.status_code == 200 and "branch" in foreign.context["form"].errors
    assert not InterfaceDefinition.objects.exists()

    own = client.post(reverse("branches:definition_create"), definition_data(name="Für Mitte", branch=str(mitte.pk)))
    assert own.status_code == 302
    definition = InterfaceDefinition.objects.get()
    assert definition.branch == mitte and definition.chain == mitte.chain

    # Nor may she widen her own definition to the whole chain.
    widened = client.post(own.url, definition_data(name="Für Mitte", branch=""))
    assert widened.status_code == 200 and "branch" in widened.context["form"].errors
    definition.refresh_from_db()
    assert definition.branch == mitte


# --- "Verbindung testen" ------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SinkHandler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


@pytest.fixture
def smtp_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return settings


@pytest.fixture
def smtp_server(smtp_settings):
    port = free_port()
    controller = Controller(SinkHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    smtp_settings.EMAIL_PORT = port
    yield controller
    controller.stop()


def test_connection_test_succeeds_against_smtp_server(as_user, dave, chain, smtp_server):
    definition = f.InterfaceDefinitionFactory(chain=chain, name="Standard")
    response = as_user(dave).post(reverse("branches:definition_test", args=[definition.pk]), follow=True)
    assert response.status_code == 200
    [message] = messages_of(response)
    assert "Verbindung erfolgreich" in message and "E-Mail-Server ist erreichbar" in message


def test_connection_test_reports_why_it_failed(as_user, dave, chain, smtp_settings):
    smtp_settings.EMAIL_PORT = free_port()  # nothing listens there
    definition = f.InterfaceDefinitionFactory(chain=chain, name="Standard")
    response = as_user(dave).post(reverse("branches:definition_test", args=[definition.pk]), follow=True)
    [message] = messages_of(response)
    assert "fehlgeschlagen" in message and "nicht erreichbar" in message


def test_connection_test_shows_configuration_error(as_user, dave, chain):
    definition = f.InterfaceDefinitionFactory(chain=chain, name="Kaputt", options={"from_email": "kaputt"})
    response = as_user(dave).post(reverse("branches:definition_test", args=[definition.pk]), follow=True)
    assert response.status_code == 200
    [message] = messages_of(response)
    assert "fehlgeschlagen" in message and "nicht richtig eingerichtet" in message


def test_connection_test_of_unavailable_backend_fails_clearly(as_user, dave, chain, unavailable_backend):
    definition = f.InterfaceDefinitionFactory(chain=chain, name="Alt", backend=unavailable_backend)
    response = as_user(dave).post(reverse("branches:definition_test", args=[definition.pk]), follow=True)
    [message] = messages_of(response)
    assert "noch nicht verfügbar" in message


def test_connection_test_with_secret_backend(as_user, dave, chain, secret_backend):
    definition = f.InterfaceDefinitionFactory(
        chain=chain, backend="test_secret", options={"url": "http://127.0.0.1:9/"}, secrets={"password": SECRET}
    )
    response = as_user(dave).post(reverse("branches:definition_test", args=[definition.pk]), follow=True)
    [message] = messages_of(response)
    assert "Testschnittstelle erreichbar" in message
    assert SECRET not in response.content.decode()


# --- companies and suppliers --------------------------------------------------------------


def test_company_crud(as_user, dave, dreve):
    client = as_user(dave)
    assert client.post(reverse("branches:company_create"), {"name": "Egger", "is_active": "on"}).status_code == 302
    egger = Company.objects.get(name="Egger")
    duplicate = client.post(reverse("branches:company_create"), {"name": "Dreve"})
    assert duplicate.status_code == 200 and "name" in duplicate.context["form"].errors
    empty = client.post(reverse("branches:company_create"), {"name": ""})
    assert "name" in empty.context["form"].errors
    assert Company.objects.count() == 2
    assert 'value="Egger"' in client.get(reverse("branches:company_edit", args=[egger.pk])).content.decode()
    assert client.post(reverse("branches:company_edit", args=[egger.pk]), {"name": "Egger Otoplastik"}).status_code == 302
    egger.refresh_from_db()
    assert egger.name == "Egger Otoplastik" and not egger.is_active
    assert "Egger Otoplastik" in client.get(reverse("branches:company_list")).content.decode()


def supplier_data(company, **overrides):
    data = {
        "company": str(company.pk),
        "name": "Dreve Versand",
        "order_method": "email",
        "order_email": "versand@dreve.test",
        "fax_number": "",
        "phone_number": "",
        "delivery_days": "7",
        "turnaround_days": "",
        "shipping_days": "1",
        "carrier": "",
        "remake_fit_days": "90",
        "remake_material_months": "12",
        "remake_conditions": "",
        "customer_reference_mode": "initials_code",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_supplier_crud_with_model_rules_as_field_errors(as_user, dave, dreve):
    client = as_user(dave)
    no_email = client.post(reverse("branches:supplier_create"), supplier_data(dreve, order_email=""))
    assert no_email.status_code == 200
    assert "Bestell-E-Mail-Adresse" in no_email.context["form"].errors["order_email"][0]
    no_fax = client.post(reverse("branches:supplier_create"), supplier_data(dreve, order_method="fax", order_email=""))
    assert "fax_number" in no_fax.context["form"].errors
    bad_days = client.post(reverse("branches:supplier_create"), supplier_data(dreve, delivery_days="-1"))
    assert "delivery_days" in bad_days.context["form"].errors
    assert not Supplier.objects.exists()

    assert client.post(reverse("branches:supplier_create"), supplier_data(dreve)).status_code == 302
    supplier = Supplier.objects.get()
    assert 'value="versand@dreve.test"' in client.get(reverse("branches:supplier_edit", args=[supplier.pk])).content.decode()
    edited = client.post(
        reverse("branches:supplier_edit", args=[supplier.pk]),
        supplier_data(dreve, order_method="fax", order_email="", fax_number="+49 30 1234"),
    )
    assert edited.status_code == 302
    supplier.refresh_from_db()
    assert supplier.order_method == "fax" and supplier.fax_number == "+49 30 1234"
    assert "Dreve Versand" in client.get(reverse("branches:supplier_list")).content.decode()


# --- account numbers ----------------------------------------------------------------------


def test_account_numbers_per_branch(as_user, carol, mitte, nord, dreve_supplier):
    egger = f.SupplierFactory(company=f.CompanyFactory(name="Egger"))
    at_nord = f.SupplierAccountFactory(branch=nord, supplier=egger, account_number="N-1")
    client = as_user(carol)

    listing = client.get(reverse("branches:account_list")).content.decode()
    assert "K-4711" in listing and "N-1" not in listing
    assert client.get(reverse("branches:account_edit", args=[at_nord.pk])).status_code == 404
    assert client.post(reverse("branches:account_delete", args=[at_nord.pk])).status_code == 404

    duplicate = client.post(
        reverse("branches:account_create"),
        {"branch": str(mitte.pk), "supplier": str(dreve_supplier.pk), "account_number": "K-9999"},
    )
    assert duplicate.status_code == 200
    assert "bereits eine Kundennummer" in duplicate.context["form"].errors["supplier"][0]
    foreign = client.post(
        reverse("branches:account_create"),
        {"branch": str(nord.pk), "supplier": str(dreve_supplier.pk), "account_number": "K-9999"},
    )
    assert "branch" in foreign.context["form"].errors
    empty = client.post(
        reverse("branches:account_create"), {"branch": str(mitte.pk), "supplier": str(egger.pk), "account_number": ""}
    )
    assert "account_number" in empty.context["form"].errors
    assert SupplierAccount.objects.count() == 2

    created = client.post(
        reverse("branches:account_create"), {"branch": str(mitte.pk), "supplier": str(egger.pk), "account_number": "E-1"}
    )
    assert created.status_code == 302
    account = SupplierAccount.objects.get(branch=mitte, supplier=egger)
    moved = client.post(
        reverse("branches:account_edit", args=[account.pk]),
        {"branch": str(mitte.pk), "supplier": str(dreve_supplier.pk), "account_number": "E-1"},
    )
    assert "bereits eine Kundennummer" in moved.context["form"].errors["supplier"][0]
    renumbered = client.post(
        reverse("branches:account_edit", args=[account.pk]),
        {"branch": str(mitte.pk), "supplier": str(egger.pk), "account_number": "E-2"},
    )
    assert renumbered.status_code == 302
    account.refresh_from_db()
    assert account.account_number == "E-2"

    confirm = client.get(reverse("branches:account_delete", args=[account.pk]))
    assert confirm.status_code == 200 and "E-2" in confirm.content.decode()
    assert client.post(reverse("branches:account_delete", args=[account.pk])).status_code == 302
    assert not SupplierAccount.objects.filter(pk=account.pk).exists()
    assert SupplierAccount.objects.filter(pk=at_nord.pk).exists()
