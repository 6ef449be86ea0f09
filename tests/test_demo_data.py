"""The demo data of ``make run`` and the demo mail sink."""

import email
import json
import email.policy
import io
import socket

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.core.mail import EmailMessage, get_connection
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from branches.models import Branch, Chain, InterfaceDefinition, Membership, SupplierAccount
from branches.resolver import READY, SUPPLIER_REQUIRED
from branches.scope import admin_scope
from otoorder.backends import registry
from otoorder.sandbox.management.commands.demo_mail_sink import MaildirHandler
from otoorder.backends.transports.files import ROOT_ENV
from otoorder.backends.transports.subprocess import ALLOWLIST_ENV
from otoorder.sandbox.management.commands.load_demo_data import DEMO_PASSWORD, INTERFACE_LABS, SANDBOX_BIN
from otoorder.complaints.models import Complaint
from otoorder.orders.models import EarmouldOrder
from otoorder.orders.services import resolve_for
from otoorder.transactions.models import Customer, TemplateStep, Transaction, TransactionTemplate
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
    EarmouldOrder,
    Complaint,
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
def sandbox_env(settings, tmp_path, monkeypatch):
    """What ``make run`` sets: the demo program allowed, the exchange root, a var folder."""
    settings.DEMO_MODE = True
    settings.VAR_DIR = tmp_path / "var"
    monkeypatch.setenv(ALLOWLIST_ENV, str(SANDBOX_BIN))
    monkeypatch.setenv(ROOT_ENV, str(tmp_path / "exchange"))
    monkeypatch.setenv("OTOORDER_SANDBOX_URL", "http://127.0.0.1:8777")
    monkeypatch.setenv("OTOORDER_BASE_URL", "http://127.0.0.1:8124")
    return tmp_path


@pytest.fixture
def demo(db, sandbox_env):
    load()


def test_loading_twice_changes_nothing(demo, sandbox_env):
    before = snapshot()
    updated_at = dict(InterfaceDefinition.objects.values_list("pk", "updated_at"))
    config = (sandbox_env / "var" / "sandbox.json").read_text()
    output = load()
    assert "0 created, 0 updated" in output and "sandbox.json" not in output
    assert snapshot() == before
    assert dict(InterfaceDefinition.objects.values_list("pk", "updated_at")) == updated_at
    assert (sandbox_env / "var" / "sandbox.json").read_text() == config


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
    assert [b.name for b in Branch.objects.visible_to(staff)] == ["Filiale Mitte"]
    assert not admin_scope(staff).exists
    assert admin_scope(admin).is_chain_admin()
    assert not staff.is_staff and not admin.is_superuser

    response = client.post(reverse("login"), {"username": "demo-staff", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
    client.logout()
    assert client.login(request=HttpRequest(), username="demo-admin", password=DEMO_PASSWORD)  # axes needs a request


def test_template_and_dreve_definition(demo):
    template = TransactionTemplate.objects.get(name="Otoplastik")
    steps = list(template.steps.order_by("position"))
    assert [(s.title, s.step_type) for s in steps] == [
        ("Abdruck nehmen", "impression"),
        ("Otoplastik bestellen", "order_service"),
        ("Wareneingang prüfen", "goods_receipt"),
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
    # The labs of the standard process have no definition: supplier chosen, standard process.
    egger = resolve_for(txn, Company.objects.get(name="egger"))
    assert egger.outcome == SUPPLIER_REQUIRED and egger.definition is None
    assert egger.candidates[0].company.name == "egger"


def test_every_interface_is_configured_against_the_sandbox(demo, sandbox_env):
    customer = Customer.objects.filter(branch__name="Filiale Mitte").first()
    txn = Transaction.objects.start(customer=customer, template=TransactionTemplate.objects.get(name="Otoplastik"))
    backends = set()
    for company_name, (backend, mitte_number, _nord_number) in INTERFACE_LABS.items():
        resolution = resolve_for(txn, Company.objects.get(name=company_name))
        assert resolution.outcome == READY, company_name
        assert resolution.backend_key == backend
        definition = resolution.definition
        assert definition.is_active and definition.branch is None
        # The backend takes the stored options and secrets as they are.
        definition.backend_class(definition.configured_options())
        assert SupplierAccount.objects.get(branch=customer.branch, supplier=resolution.supplier).account_number == mitte_number
        url = definition.options.get("endpoint_url") or definition.options.get("portal_url") or ""
        assert url.startswith("http://127.0.0.1:8777/") or backend in ("command_line", "otofaktur_otoport")
        backends.add(backend)
    assert backends == {key for key in registry.BACKENDS if key != "standard"}

    config = json.loads((sandbox_env / "var" / "sandbox.json").read_text())
    egger = InterfaceDefinition.objects.get(backend="egger_erp")
    assert config["otoorder_url"] == "http://127.0.0.1:8124"
    assert config["egger"]["definition_id"] == str(egger.pk)
    assert config["egger"]["shared_secret"] == egger.secrets["shared_secret"]
    assert config["dreve"]["api_key"] == InterfaceDefinition.objects.get(backend="dreve_smartorder").secrets["api_key"]
    portal = InterfaceDefinition.objects.get(backend="audia_easy_order_portal")
    assert config["portals"]["audia"]["shared_secret"] == portal.secrets["shared_secret"]
    assert config["otoport"]["outbox"] == str(sandbox_env / "exchange" / "otoport" / "out")
    assert oct((sandbox_env / "var" / "sandbox.json").stat().st_mode & 0o777) == "0o600"


def test_without_the_operator_settings_the_two_local_labs_are_skipped(db, sandbox_env, monkeypatch):
    monkeypatch.delenv(ALLOWLIST_ENV)
    monkeypatch.delenv(ROOT_ENV)
    output = load()
    assert "OTOORDER_COMMAND_ALLOWLIST" in output and "OTOORDER_EXCHANGE_ROOT" in output
    assert not InterfaceDefinition.objects.filter(backend__in=["command_line", "otofaktur_otoport"]).exists()
    assert InterfaceDefinition.objects.filter(backend="egger_erp").exists()


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


def test_demo_parcels_one_open_one_closed_and_impressions_to_pack(demo):
    from otoorder.orders import parcels
    from otoorder.orders.models import Parcel

    open_parcel, closed_parcel = Parcel.objects.order_by("-closed_at")
    assert open_parcel.is_open and open_parcel.items.count() == 3
    assert not closed_parcel.is_open and closed_parcel.closed_by is None
    assert closed_parcel.items.get().impression.lab_received_at is not None
    staff = get_user_model().objects.get(username="demo-staff")
    assert {item.order.number for item in parcels.open_items(staff)} == {"DEMO-ABDRUCK"}
    load()
    assert Parcel.objects.count() == 2


def test_every_count_of_the_start_page_has_a_demo_order(demo):
    from otoorder.orders import queries
    from otoorder.orders.models import EarmouldOrder

    staff = get_user_model().objects.get(username="demo-staff")
    counts = queries.worklist_counts(EarmouldOrder.objects.visible_to(staff))
    assert all(counts.values()), counts


def test_complaints_in_every_state_with_their_remakes_cost_bearers_and_amounts(demo):
    from otoorder.complaints.choices import ComplaintStatus, CostBearer, Outcome
    from otoorder.orders.choices import OrderType

    complaints = list(Complaint.objects.select_related("order", "reason", "remake_order"))
    assert {c.status for c in complaints} == set(ComplaintStatus.values)
    decided = [c for c in complaints if c.status == ComplaintStatus.DECIDED]
    assert {c.outcome for c in decided} == set(Outcome.values)
    assert {c.cost_bearer for c in complaints if c.outcome} == set(CostBearer.values)
    assert all(c.cost_bearer for c in complaints if c.status in (ComplaintStatus.DECIDED, ComplaintStatus.DONE))
    assert any(c.amount for c in complaints)
    for complaint in complaints:
        assert complaint.order.received_at is not None
        assert complaint.free_remake_until is not None
        events = list(complaint.order.events.filter(data__complaint=str(complaint.pk)).order_by("created_at"))
        assert events[0].data["code"] == "complaint_raised"
        assert events[0].created_at == complaint.created_at < timezone.now()
        remake = complaint.remake_order
        if remake is None:
            continue
        # Linked both ways, with the reason and, once decided, who pays.
        assert remake.order_type == OrderType.REMAKE and remake.original_order == complaint.order
        assert remake in complaint.order.follow_ups.all()
        assert (remake.reason_code, remake.reason_category) == (complaint.reason.code, complaint.reason.category)
        if complaint.outcome:
            assert (remake.cost_bearer, remake.cost_amount) == (complaint.cost_bearer, complaint.amount)
    # A lab charge on a remake inside the free-remake window: the case the flag is for.
    [flagged] = [c for c in complaints if c.free_remake and c.outcome == Outcome.CHARGED_REMAKE]
    assert flagged.cost_bearer != CostBearer.LAB and flagged.amount > 0
    assert flagged.remake_order.created_at.date() <= flagged.free_remake_until
    # And one charged after the window closed.
    assert any(not c.free_remake and c.outcome == Outcome.CHARGED_REMAKE for c in complaints)


def test_the_demo_scorecard_shows_every_figure(demo, client):
    """Every figure of the scorecard page's default period (the last 90 days) has a lab with a
    value above zero, for the chain admin."""
    from otoorder.orders import scorecard

    admin = get_user_model().objects.get(username="demo-admin")
    client.force_login(admin)
    response = client.get(reverse("scorecard"))
    assert response.status_code == 200
    scores = response.context["view"].scores
    assert {score.supplier for score in scores} >= {"Dreve", "egger", "audia", "Hörluchs", "Otoplastik Nord"}
    for figure in scorecard.FIGURES:
        assert any(getattr(score, figure) for score in scores), figure
    assert any(score.on_time_rate < 1 for score in scores)  # some late
    # Delivered orders over the last months, shipped and received, across the labs.
    history = EarmouldOrder.objects.filter(number__startswith="DEMO-H-", received_at__isnull=False)
    months = {order.ordered_at.strftime("%Y-%m") for order in history}
    assert len(months) >= 5
    assert all(order.ordered_at < order.shipped_at < order.received_at for order in history)
    assert all(order.created_at == order.ordered_at for order in history)


def test_the_history_is_written_in_bulk(db, sandbox_env, monkeypatch):
    """Some 120 orders with their ears, steps, attempts and 15 complaints: a few dozen bulk
    queries beyond a load without history, and one insert per event (append-only)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from otoorder.orders.models import OrderEvent
    from otoorder.sandbox import history

    written = history.exists
    monkeypatch.setattr(history, "exists", lambda: True)
    load()
    with CaptureQueriesContext(connection) as without_history:
        load()
    monkeypatch.setattr(history, "exists", written)
    events_before = OrderEvent.objects.count()
    with CaptureQueriesContext(connection) as with_history:
        load()
    orders = EarmouldOrder.objects.filter(number__startswith="DEMO-H-").count()
    events = OrderEvent.objects.count() - events_before
    assert orders > 100 and Complaint.objects.count() == 15
    assert len(with_history) - len(without_history) - events <= 40
