"""The demo data of ``make run`` and the demo mail sink."""

import email
import email.policy
import io
import socket

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.core.management import CommandError, call_command
from django.urls import reverse

from branches.access import admin_scope, visible_branches
from branches.models import Branch, Chain, InterfaceDefinition, Membership, SupplierAccount
from otoorder.orders.management.commands.demo_mail_sink import MaildirHandler
from otoorder.orders.management.commands.load_demo_data import DEMO_PASSWORD
from otoorder.orders.services import resolve_for
from otoorder.transactions.models import Customer, TemplateStep, Transaction, TransactionTemplate
from otoorder.transactions.resolver import READY, SUPPLIER_REQUIRED
from suppliers.models import Company, Supplier

DEMO_MODELS = [
    Chain,
    Branch,
    get_user_model(),
    Membership,
    Company,
    Supplier,
    SupplierAccount,
    TransactionTemplate,
    TemplateStep,
    InterfaceDefinition,
    InterfaceDefinition.companies.through,
    Customer,
]


def load():
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    return out.getvalue()


def snapshot():
    return {
        model.__name__: sorted(map(str, model.objects.values_list("pk", flat=True))) for model in DEMO_MODELS
    }


@pytest.fixture
def demo(db, settings):
    settings.DEMO_MODE = True
    load()


def test_loading_twice_changes_nothing(demo):
    before = snapshot()
    updated_at = InterfaceDefinition.objects.get().updated_at
    assert "0 created, 0 updated" in load()
    assert snapshot() == before
    assert InterfaceDefinition.objects.get().updated_at == updated_at


def test_demo_chain_and_branches(demo):
    chain = Chain.objects.get(name="Hörwelt Demo")
    assert sorted(chain.branches.values_list("name", flat=True)) == ["Filiale Mitte", "Filiale Nord"]
    assert all(branch.email and branch.city for branch in chain.branches.all())
    for branch in chain.branches.all():
        assert Customer.objects.filter(branch=branch).count() >= 2
        assert SupplierAccount.objects.filter(branch=branch).exists()


def test_demo_logins_work(demo, client):
    staff = get_user_model().objects.get(username="demo-staff")
    admin = get_user_model().objects.get(username="demo-admin")
    assert [b.name for b in visible_branches(staff)] == ["Filiale Mitte"]
    assert not admin_scope(staff).exists
    assert admin_scope(admin).is_chain_admin()
    assert not staff.is_staff and not admin.is_superuser

    response = client.post(reverse("login"), {"username": "demo-staff", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
    client.logout()
    assert client.login(username="demo-admin", password=DEMO_PASSWORD)


def test_template_and_dreve_definition(demo):
    template = TransactionTemplate.objects.get(name="Otoplastik")
    steps = list(template.steps.order_by("position"))
    assert [(s.title, s.step_type) for s in steps] == [
        ("Abdruck nehmen", "task"),
        ("Otoplastik bestellen", "order_service"),
        ("Wareneingang prüfen", "task"),
    ]
    dreve = Company.objects.get(name="Dreve")
    assert steps[1].predefined_company == dreve
    assert steps[1].predefined_supplier.order_email == "bestellung@dreve.sandbox.test"

    customer = Customer.objects.filter(branch__name="Filiale Mitte").first()
    txn = Transaction.objects.start(customer=customer, template=template)
    resolution = resolve_for(txn, dreve)
    assert resolution.outcome == READY
    assert resolution.definition.name == "Dreve – Standard Bestellprozess"
    assert resolution.backend_key == "standard"
    assert resolution.supplier.company == dreve
    # Only Dreve has a definition: other labs go by the standard process, supplier chosen.
    egger = resolve_for(txn, Company.objects.get(name="egger"))
    assert egger.outcome == SUPPLIER_REQUIRED and egger.definition is None
    assert egger.candidates[0].company.name == "egger"


def test_order_methods_cover_email_fax_print_phone(demo):
    methods = set(Supplier.objects.values_list("order_method", flat=True))
    assert {"email", "fax", "print", "phone"} <= methods


def test_refuses_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        load()
    assert not Chain.objects.exists()
    assert not get_user_model().objects.filter(username__startswith="demo-").exists()


def test_mail_sink_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        call_command("demo_mail_sink", "--port", "0")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_mail_sink_stores_each_message_as_eml(tmp_path, settings):
    port = _free_port()
    controller = Controller(MaildirHandler(tmp_path / "mail"), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        connection = get_connection(host="127.0.0.1", port=port, username="", password="", use_tls=False)
        message = EmailMessage(
            "Otoplastik-Bestellung OT-2026-000001", "Hallo Labor", "a@otoorder.invalid", ["lab@dreve.sandbox.test"],
            connection=connection,
        )
        message.attach("Bestellung.pdf", b"%PDF-1.4 test", "application/pdf")
        assert message.send() == 1
    finally:
        controller.stop()
    stored = list((tmp_path / "mail").glob("*.eml"))
    assert len(stored) == 1
    parsed = email.message_from_bytes(stored[0].read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Otoplastik-Bestellung OT-2026-000001"
    assert [part.get_filename() for part in parsed.iter_attachments()] == ["Bestellung.pdf"]
    assert not list((tmp_path / "mail").glob(".incoming-*"))
