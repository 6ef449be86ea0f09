"""„Verbindung testen“ in branch administration for each of the nine interfaces (issue [2]).

dave (chain admin) configures every backend through the definition form against a real peer
on loopback — the sandbox lab of ``make run`` in-process on a free port, an aiosmtpd server
for the Standard Bestellprozess, the sandbox's demo program for the command line and the
sandbox's exchange folders for Otoport — and presses „Verbindung testen“: success with the
backend's message. Then the configuration or the peer breaks (wrong password or API key,
sandbox stopped, wrong portal address, program no longer allow-listed, folder outside the
exchange root) and the test reports the failure with its reason.

Also: each backend's options form on the create page, and the egger portal's legacy notice.
"""

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse

from branches.models import InterfaceDefinition
from otoorder.backends import registry
from otoorder.backends.transports.files import ROOT_ENV
from otoorder.backends.transports.subprocess import ALLOWLIST_ENV
from otoorder.sandbox.server import SandboxLab
from tests import factories as f

pytestmark = pytest.mark.django_db

SANDBOX_BIN = Path(__file__).resolve().parent.parent / "otoorder" / "sandbox" / "bin"
DEMO_PROGRAM = SANDBOX_BIN / "demo-lab-order"
USERNAME = "hoerwelt-mitte"
#: The sandbox's credentials and secrets; the tests break them with ``WRONG``.
SECRETS = {
    "dreve": "sandbox-dreve-key",
    "audia": "sandbox-audia-pw",
    "hoerluchs": "sandbox-hoerluchs-pw",
    "egger": "sandbox-egger-pw",
    "egger_callback": "sandbox-egger-callback",
    "audia_portal": "sandbox-audia-portal",
    "egger_portal": "sandbox-egger-portal",
}
WRONG = "falsch-0000"
SUCCESS = "Verbindung erfolgreich"
FAILURE = "Verbindungstest fehlgeschlagen"
CREDENTIALS_REFUSED = (
    "Das Labor hat die Zugangsdaten abgelehnt (HTTP 401). Bitte die Zugangsdaten der Schnittstelle prüfen."
)
UNREACHABLE = "Das Labor ist nicht erreichbar (Verbindung fehlgeschlagen)."


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the peers ------------------------------------------------------------------------------


def sandbox_config(exchange_root):
    return {
        "otoorder_url": "",
        "dreve": {"api_key": SECRETS["dreve"]},
        "audia": {"username": USERNAME, "password": SECRETS["audia"]},
        "hoerluchs": {"username": USERNAME, "password": SECRETS["hoerluchs"]},
        "egger": {"username": USERNAME, "password": SECRETS["egger"], "shared_secret": SECRETS["egger_callback"]},
        "portals": {
            "audia": {"shared_secret": SECRETS["audia_portal"]},
            "egger": {"shared_secret": SECRETS["egger_portal"]},
        },
        "otoport": {
            "outbox": str(exchange_root / "otoport" / "out"),
            "inbox": str(exchange_root / "otoport" / "in"),
        },
    }


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


@dataclass
class Peers:
    """What the definitions point at, and the means to break it."""

    sandbox: SandboxLab
    smtp: Controller
    exchange_root: Path
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch

    @property
    def url(self):
        return self.sandbox.url

    def stop_sandbox(self):
        self.sandbox.stop()
        self.sandbox = None

    def stop_smtp(self):
        self.smtp.stop()
        self.smtp = None


@pytest.fixture
def peers(tmp_path, monkeypatch, settings):
    """The sandbox lab, an SMTP server, and the operator's allow-list and exchange root."""
    root = tmp_path / "exchange"
    root.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(root))
    monkeypatch.setenv(ALLOWLIST_ENV, str(SANDBOX_BIN))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    smtp = Controller(Sink(), hostname="127.0.0.1", port=settings.EMAIL_PORT)
    smtp.start()
    sandbox = SandboxLab(sandbox_config(root), port=0).start(background=False)
    state = Peers(sandbox, smtp, root, tmp_path, monkeypatch)
    try:
        yield state
    finally:
        if state.sandbox is not None:
            state.sandbox.stop()
        if state.smtp is not None:
            state.smtp.stop()


# --- branch administration as dave ----------------------------------------------------------


@pytest.fixture
def admin(client, dave):
    client.force_login(dave)
    return client


def form_data(name, backend, company, option_values):
    """The definition form's fields: chain-wide, for ``company``, options as ``opt_<name>``."""
    data = {"name": name, "backend": backend, "branch": "", "active_from": "", "is_active": "on"}
    data["companies"] = [company.pk]
    for option, value in option_values.items():
        data[f"opt_{option}"] = "\n".join(value) if isinstance(value, list) else str(value)
    return data


def save(admin, data, definition=None):
    """POST the create or edit form; returns the saved definition (the form must be valid)."""
    if definition is None:
        url = reverse("branches:definition_create")
    else:
        url = reverse("branches:definition_edit", args=[definition.pk])
    # Followed, so the page shows (and uses up) the "gespeichert" message.
    response = admin.post(url, data, follow=True)
    assert response.redirect_chain, response.context["form"].errors
    assert any("wurde gespeichert" in str(m) for m in response.context["messages"])
    return InterfaceDefinition.objects.get(name=data["name"])


def test_connection(admin, definition):
    """Press „Verbindung testen“; returns the one message shown on the edit page."""
    response = admin.post(reverse("branches:definition_test", args=[definition.pk]), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("branches:definition_edit", args=[definition.pk])
    [message] = [str(m) for m in response.context["messages"]]
    for secret in SECRETS.values():
        assert secret not in response.content.decode()
    return message


test_connection.__test__ = False


# --- the nine backends ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    backend: str
    #: ``options(peers)`` → option values as dave enters them (secrets included).
    options: Callable
    #: The backend's own words on success.
    success: str
    #: ``break_it(peers, admin, definition, data)`` → the reason the failed test must name.
    break_it: Callable

    def __str__(self):
        return self.backend


def wrong_secret(option):
    """dave enters a wrong password or key through the edit form."""

    def break_it(peers, admin, definition, data):
        save(admin, {**data, f"opt_{option}": WRONG}, definition)
        return CREDENTIALS_REFUSED

    return break_it


def sandbox_stopped(peers, admin, definition, data):
    peers.stop_sandbox()
    return UNREACHABLE


def smtp_stopped(peers, admin, definition, data):
    peers.stop_smtp()
    return "Der E-Mail-Server ist nicht erreichbar: "


def wrong_portal_path(peers, admin, definition, data):
    save(admin, {**data, "opt_portal_url": f"{peers.url}/egger-portl/"}, definition)
    return "Das Labor hat die Anfrage abgelehnt (HTTP 404): Unbekannte Adresse der Sandbox."


def program_no_longer_allowed(peers, admin, definition, data):
    # The operator narrows the allow-list; the stored program is refused at run time.
    other = peers.tmp_path / "other-programs"
    other.mkdir()
    peers.monkeypatch.setenv(ALLOWLIST_ENV, str(other))
    return f"Das Programm {DEMO_PROGRAM} liegt nicht in einem freigegebenen Ordner ({ALLOWLIST_ENV})."


def exchange_root_moved(peers, admin, definition, data):
    # The operator moves the exchange root; the stored folders now lie outside it.
    moved = peers.tmp_path / "new-root"
    moved.mkdir()
    peers.monkeypatch.setenv(ROOT_ENV, str(moved))
    outbox = peers.exchange_root / "otoport" / "out"
    return f"Der Ordner {outbox} liegt nicht im freigegebenen Austauschordner ({ROOT_ENV})."


def basic_auth(path, secret):
    return lambda p: {"endpoint_url": f"{p.url}{path}", "username": USERNAME, "password": SECRETS[secret]}


HTTP_OK = "Das Labor ist erreichbar und hat die Zugangsdaten angenommen."
PORTAL_OK = "Das Portal ist erreichbar (HTTP 200)."

CASES = [
    Case(
        "standard",
        lambda p: {"from_email": "bestellung@hoerwelt.test"},
        "Der E-Mail-Server ist erreichbar.",
        smtp_stopped,
    ),
    Case(
        "audia_easy_order",
        basic_auth("/audia/api", "audia"),
        HTTP_OK,
        wrong_secret("password"),
    ),
    Case(
        "audia_easy_order_portal",
        lambda p: {"portal_url": f"{p.url}/audia-portal/", "shared_secret": SECRETS["audia_portal"]},
        PORTAL_OK,
        sandbox_stopped,
    ),
    Case(
        "dreve_smartorder",
        lambda p: {"endpoint_url": f"{p.url}/dreve/api/v1", "api_key": SECRETS["dreve"]},
        HTTP_OK,
        wrong_secret("api_key"),
    ),
    Case(
        "egger_bestellsystem",
        lambda p: {"portal_url": f"{p.url}/egger-portal/", "shared_secret": SECRETS["egger_portal"]},
        PORTAL_OK,
        wrong_portal_path,
    ),
    Case(
        "egger_erp",
        lambda p: {
            **basic_auth("/egger/erp", "egger")(p),
            "buyer_id": "HW-MITTE",
            "shared_secret": SECRETS["egger_callback"],
        },
        HTTP_OK,
        wrong_secret("password"),
    ),
    Case(
        "hoerluchs_partner",
        basic_auth("/hoerluchs/api", "hoerluchs"),
        HTTP_OK,
        sandbox_stopped,
    ),
    Case(
        "command_line",
        lambda p: {"executable": str(DEMO_PROGRAM), "arguments": ["{order_id}", "{order_file}"], "timeout_seconds": 10},
        f"Das Programm {DEMO_PROGRAM} ist freigegeben und ausführbar.",
        program_no_longer_allowed,
    ),
    Case(
        "otofaktur_otoport",
        lambda p: {
            "outbox_dir": str(p.exchange_root / "otoport" / "out"),
            "inbox_dir": str(p.exchange_root / "otoport" / "in"),
        },
        "Ausgangs- und Eingangsordner sind vorhanden und beschreibbar.",
        exchange_root_moved,
    ),
]
CASE = {case.backend: case for case in CASES}


def test_every_backend_has_a_case():
    assert sorted(case.backend for case in CASES) == sorted(key for key, _label in registry.choices())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_verbindung_testen_succeeds_then_names_the_failure(case, admin, peers):
    company = f.CompanyFactory(name=f"Labor {case.backend}")
    data = form_data(f"{case.backend} (Sandbox)", case.backend, company, case.options(peers))
    definition = save(admin, data)
    assert definition.backend == case.backend

    message = test_connection(admin, definition)
    assert re.fullmatch(rf"{SUCCESS} \(\d+ ms\): {re.escape(case.success)}", message), message

    reason = case.break_it(peers, admin, definition, data)
    message = test_connection(admin, InterfaceDefinition.objects.get(pk=definition.pk))
    assert message.startswith(f"{FAILURE}: ") and reason in message, message


def test_dreve_with_the_sandbox_stopped_names_the_connection(admin, peers):
    """An HTTP lab with the right key but no peer: unreachable, not a credentials problem."""
    company = f.CompanyFactory(name="Dreve SmartOrder")
    definition = save(admin, form_data("Dreve", "dreve_smartorder", company, CASE["dreve_smartorder"].options(peers)))
    peers.stop_sandbox()
    assert test_connection(admin, definition) == f"{FAILURE}: {UNREACHABLE}"


def test_otoport_folder_outside_the_root_is_refused_when_saved(admin, peers):
    company = f.CompanyFactory(name="Otofaktur")
    data = form_data("Otoport", "otofaktur_otoport", company, {"outbox_dir": "../draussen", "inbox_dir": "otoport/in"})
    response = admin.post(reverse("branches:definition_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["opt_outbox_dir"] == [
        f"Der Ordner ../draussen liegt nicht im freigegebenen Austauschordner ({ROOT_ENV})."
    ]
    assert not InterfaceDefinition.objects.filter(name="Otoport").exists()


def test_program_outside_the_allow_list_is_refused_when_saved(admin, peers, tmp_path):
    company = f.CompanyFactory(name="Labor Skript")
    program = tmp_path / "lab-order"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    options = {"executable": str(program), "arguments": ["{order_id}"], "timeout_seconds": 5}
    data = form_data("Skript", "command_line", company, options)
    response = admin.post(reverse("branches:definition_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["opt_executable"] == [
        f"Das Programm {program} liegt nicht in einem freigegebenen Ordner ({ALLOWLIST_ENV})."
    ]


# --- the options forms ----------------------------------------------------------------------


def option_inputs(html):
    """``{opt_<name>: tag}`` of the option fields in a page."""
    return {
        match.group(2): match.group(0)
        for match in re.finditer(r'<(input|textarea|select)[^>]*\bname="(opt_[a-z_]+)"[^>]*>', html)
    }


@pytest.mark.parametrize("key", [key for key, _label in registry.choices()])
def test_create_page_renders_the_options_form_of_each_backend(admin, key):
    backend_class = registry.get_backend_class(key)
    response = admin.get(reverse("branches:definition_create") + f"?backend={key}")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf'<option value="{key}" selected>', html), f"{key} is not the selected backend"

    inputs = option_inputs(html)
    options = list(backend_class.options_schema())
    assert sorted(inputs) == sorted(f"opt_{option.name}" for option in options)
    for option in options:
        tag = inputs[f"opt_{option.name}"]
        assert f'for="id_opt_{option.name}"' in html, option.name
        assert str(option.label) in html, option.label
        if option.secret:
            assert 'type="password"' in tag and "value=" not in tag, tag
    if backend_class.legacy:
        assert str(backend_class.notice) in html
    else:
        assert not backend_class.notice and "Veraltete Schnittstelle" not in html

    # The same part, as the form fetches it when the backend is changed (htmx).
    fragment = admin.get(reverse("branches:definition_options") + f"?backend={key}")
    assert fragment.status_code == 200
    assert sorted(option_inputs(fragment.content.decode())) == sorted(inputs)


def test_egger_portal_shows_its_legacy_notice(admin, peers):
    notice = "Veraltete Schnittstelle: egger hat das Bestellsystem durch die ERP-Schnittstelle"
    create = admin.get(reverse("branches:definition_create") + "?backend=egger_bestellsystem")
    assert notice in create.content.decode()
    assert 'class="alert alert-warning' in create.content.decode()

    company = f.CompanyFactory(name="egger (alt)")
    options = CASE["egger_bestellsystem"].options(peers)
    definition = save(admin, form_data("egger alt", "egger_bestellsystem", company, options))
    edit = admin.get(reverse("branches:definition_edit", args=[definition.pk])).content.decode()
    assert notice in edit
    listing = admin.get(reverse("branches:definition_list")).content.decode()
    assert "veraltet" in listing and "egger alt" in listing
    # A warning, not a block: the legacy portal still saves and its connection test works.
    assert test_connection(admin, definition).startswith(SUCCESS)

    # The audia portal carries no such notice.
    audia = admin.get(reverse("branches:definition_create") + "?backend=audia_easy_order_portal").content.decode()
    assert notice not in audia and "Veraltete Schnittstelle" not in audia
