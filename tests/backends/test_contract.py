"""The contract every registered backend keeps, run against each entry of the registry.

Parametrised over ``registry.BACKENDS`` itself: a backend registered tomorrow gets every test
here without anyone writing one. Each backend sees the same documents (one ear, both ears,
RIC, with scan, with attachment). It must

* keep the protocol: ``key`` and ``label``, the fixed ``send`` pipeline, its required hooks,
  a flag for every optional capability it implements (and a hook for every flag);
* validate its options: a missing or unknown option is a configuration error naming it, the
  demo options are accepted;
* build a payload for every document that carries **every field of the specification**
  (``ItemDocument``), or refuse loudly the fields it declares in ``refused_item_fields``;
  carried means the field's distinctive marker is in the serialised payload (bytes, text,
  the text of a PDF); a coded value and its German label (``style``/``style_label``) count as
  one field, carried by either (a machine reads the code, a person the label);
* map the failures of its transport to transient, permanent and configuration errors,
  against real peers on loopback (``tests/labs``' HTTP lab, an SMTP server, a folder, an
  executable) — nothing of our transport code is patched;
* where it declares ``supports_cancellation``/``supports_lab_messages``: carry the
  cancellation (or say ``manual``) and the message to the same peers under their own
  idempotency keys, with the same error mapping.

A new backend whose options or transport this module does not know yet fails here with a
message saying what to add (``SPECIAL_OPTIONS``, ``error_cases``).
"""

import asyncio
import hashlib
import io
import json
import os
import socket
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pypdf
import pytest
from aiosmtpd.controller import Controller
from django.core.mail import EmailMessage

from otoorder.backends import registry
from otoorder.backends.base import CAPABILITIES, REQUIRED_HOOKS, BaseBackend, overrides
from otoorder.backends.document import (
    AttachmentDocument,
    CancellationDocument,
    ItemDocument,
    MessageDocument,
    ScanDocument,
)
from otoorder.backends.exceptions import (
    BackendError,
    ConfigurationError,
    OrderRejected,
    PermanentError,
    TransientError,
)
from otoorder.backends.result import (
    CancelResult,
    CancelStatus,
    DispatchResult,
    MessageResult,
    ResultStatus,
)
from otoorder.backends.transports.files import ROOT_ENV
from otoorder.backends.transports.http import HttpBackend
from otoorder.backends.transports.subprocess import ALLOWLIST_ENV
from suppliers.catalogue import CATALOGUE_FIELDS
from tests.documents import LEFT_RIC, RIGHT_BTE, order_document, stored
from tests.labs.http_lab import Reply

#: Collected when the module is imported: every registered backend, a tenth one included.
KEYS = list(registry.BACKENDS)
BIN = Path(__file__).resolve().parents[1] / "bin"
DEMO_PROGRAM = BIN / "demo_lab_command"
SCAN_BYTES = b"solid SCANINHALTQ\nendsolid\n"
ATTACHMENT_BYTES = b"\x89PNG\r\n\x1a\nANHANGINHALTQ"
ITEM_FIELDS = [item_field.name for item_field in fields(ItemDocument)]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the setting of one test: labs, folders, programs ------------------------------------


class SmtpLab:
    """An aiosmtpd server on loopback answering DATA by script: ``"451"``, ``"550"`` or 250."""

    def __init__(self):
        self.port = free_port()
        self.script = []
        self.accepted = []
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0)
        answer = self.script.pop(0) if self.script else "250"
        if answer == "451":
            return "451 4.3.0 Lab mail system busy"
        if answer == "550":
            return "550 5.7.1 Order address does not accept messages"
        self.accepted.append(envelope.content)
        return "250 2.0.0 Message accepted"


@dataclass
class Setting:
    http_lab: object
    tmp_path: Path
    monkeypatch: object
    settings: object
    smtp: SmtpLab


@pytest.fixture
def setting(http_lab, tmp_path, monkeypatch, settings):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(exchange))
    monkeypatch.setenv(ALLOWLIST_ENV, str(BIN))
    smtp = SmtpLab()
    smtp.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.MEDIA_ROOT = tmp_path / "private"
    yield Setting(http_lab, tmp_path, monkeypatch, settings, smtp)
    smtp.controller.stop()


# --- demo options: from the option schema, plus what no schema can guess ------------------


#: Options whose valid value no schema can guess (folders inside the exchange root that the
#: ``setting`` fixture sets, a program inside its allow-list).
SPECIAL_OPTIONS = {
    "otofaktur_otoport": {"outbox_dir": "otoport/out", "inbox_dir": "otoport/in"},
    "command_line": {"executable": str(DEMO_PROGRAM), "arguments": ["--mode", "ok", "{order_file}"]},
}
def cancel_options(key, setting):
    """Options that turn on an optional channel (a cancel program), for the cancellation tests."""
    if key == "command_line":
        record = str(setting.tmp_path / "cancel-record.jsonl")
        return {
            "cancel_command": str(DEMO_PROGRAM),
            "cancel_arguments": ["--record", record, "--mode", "ok", "{order_file}", "{idempotency_key}", "{reason}"],
        }
    return {}


def generic_value(option, setting):
    if option.secret:
        return f"geheim-{option.name}"
    return {
        "url": lambda: f"{setting.http_lab.url}/lab",
        "string": lambda: f"demo-{option.name}",
        "email": lambda: "labor@example.test",
        "int": lambda: option.default if option.default is not None else (option.min_value or 1),
        "bool": lambda: True,
        "list": lambda: option.default or ["demo"],
        "choice": lambda: option.choices[0][0],
    }[option.kind]()


def demo_options(backend_class, setting):
    special = SPECIAL_OPTIONS.get(backend_class.key)
    if special is not None:
        return dict(special)
    return {
        option.name: generic_value(option, setting)
        for option in backend_class.options_schema()
        if option.required and option.default is None
    }


def make(key, setting, *, timeout=5.0, **overrides):
    backend_class = registry.get_backend_class(key)
    return backend_class({**demo_options(backend_class, setting), **overrides}, timeout=timeout)


# --- the documents --------------------------------------------------------------------------


def scan_document(setting, side="right"):
    return ScanDocument(
        filename=f"{side}.stl",
        stored_name=stored(f"scans/scan-{side}.stl", SCAN_BYTES),
        side=side,
        content_type="model/stl",
        file_format="stl_ascii",
        sha256=hashlib.sha256(SCAN_BYTES).hexdigest(),
        size=len(SCAN_BYTES),
    )


def attachment_document(setting):
    return AttachmentDocument(
        name="AudiogrammQ.png",
        content_type="image/png",
        stored_name=stored("attachments/audiogramm.png", ATTACHMENT_BYTES),
        sha256=hashlib.sha256(ATTACHMENT_BYTES).hexdigest(),
        size=len(ATTACHMENT_BYTES),
    )


DOCUMENTS = ("one ear", "both ears", "RIC", "with scan", "with attachment")


def document_for(kind, setting, items=None):
    """The document ``kind``; ``items(item)`` may rewrite each ear (e.g. into markers)."""
    ears = {
        "one ear": (RIGHT_BTE,),
        "both ears": (RIGHT_BTE, LEFT_RIC),
        "RIC": (replace(LEFT_RIC, side="right", side_label="rechts"),),
        "with scan": (LEFT_RIC,),
        "with attachment": (RIGHT_BTE,),
    }[kind]
    extra = {}
    if kind == "with scan":
        extra["scans"] = (scan_document(setting, "left"),)
    if kind == "with attachment":
        extra["attachments"] = (attachment_document(setting),)
    if items is not None:
        ears = tuple(items(ear) for ear in ears)
    # The standard process needs a supplier ordering by e-mail; no other backend reads it.
    return order_document(items=ears, supplier_order_method="email", **extra)


def marked(item, refused=frozenset(), cord=True):
    """``item`` with a distinctive marker in every field (refused fields left empty)."""
    tag = item.side[0].upper()
    values = {}
    for number, name in enumerate(ITEM_FIELDS):
        if name == "side" or name in refused:
            continue
        if name == "quantity":
            values[name] = 90000 + number + (100 if tag == "L" else 0)
        elif name == "extraction_cord":
            values[name] = cord
        elif name == "lab_codes":
            values[name] = {field: f"C{tag}{index:02d}Q" for index, field in enumerate(CATALOGUE_FIELDS)}
        else:
            values[name] = f"M{tag}{number:02d}Q"
    return replace(item, **values)


def cancellation_document(order, sequence=1, lab_reference="LAB-1"):
    return CancellationDocument(
        order=order,
        idempotency_key=f"{order.order_id}-storno-{sequence}",
        sequence=sequence,
        reason="Kunde hat sich anders entschieden",
        requested_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc),
        lab_reference=lab_reference,
    )


def message_document(order, message_id="7a2b3c4d-0000-4000-8000-00000000beef"):
    return MessageDocument(
        order=order,
        message_id=message_id,
        text="Bitte 2 mm kürzen.",
        author="Alice Akustik",
        sent_at=datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc),
        lab_reference="LAB-1",
        in_reply_to="Q-1",
        question="Gehörgang zu kurz – wie weiter?",
    )


# --- the payload as text --------------------------------------------------------------------


def pdf_text(data):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def payload_text(value):
    """Everything a payload carries, as text: bodies, files, PDF text, message parts."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return pdf_text(value) if value.startswith(b"%PDF") else value.decode("utf-8", errors="replace")
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, EmailMessage):
        parts = [value.subject, value.body, *value.to, *value.cc, *value.reply_to]
        return "\n".join([*parts, *(payload_text(list(attachment)) for attachment in value.attachments)])
    if is_dataclass(value):
        return payload_text([getattr(value, item_field.name) for item_field in fields(value)])
    if isinstance(value, dict):
        return "\n".join(f"{key}\n{payload_text(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return "\n".join(payload_text(item) for item in value)
    raise AssertionError(f"the contract test cannot read a payload part of type {type(value).__name__}; teach payload_text")


def labelled(name):
    """The code/label pair a field belongs to: ``("style", "style_label")`` or ``None``."""
    if name.endswith("_label") and name[: -len("_label")] in ITEM_FIELDS:
        return name[: -len("_label")], name
    if f"{name}_label" in ITEM_FIELDS:
        return name, f"{name}_label"
    return None


def missing_fields(text, item, refused):
    """The fields of ``item`` (marked) whose value the payload text does not carry."""
    missing = []
    for name in ITEM_FIELDS:
        if name in refused or name == "extraction_cord":
            continue
        if name == "lab_codes":
            missing += [f"lab_codes.{field}" for field, code in item.lab_codes.items() if code not in text]
            continue
        pair = labelled(name)
        candidates = [getattr(item, member) for member in pair] if pair else [getattr(item, name)]
        if name in ("side", "side_label"):
            candidates.append(item.side)
        if not any(str(candidate) in text for candidate in candidates if str(candidate)):
            missing.append(name)
    return missing


# --- the protocol ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_identity_and_the_fixed_pipeline(key):
    backend_class = registry.get_backend_class(key)
    assert backend_class.key == key and str(backend_class.label) == registry.label(key)
    assert backend_class.send is BaseBackend.send, "override the hooks, never send()"
    unimplemented = [hook for hook in REQUIRED_HOOKS if not overrides(backend_class, hook)]
    assert not unimplemented, f"{backend_class.__name__} lacks {unimplemented}"


@pytest.mark.parametrize("key", KEYS)
def test_capabilities_are_declared_by_flags_that_match_the_hooks(key):
    backend_class = registry.get_backend_class(key)
    for flag, hooks in CAPABILITIES.items():
        implemented = all(overrides(backend_class, hook) for hook in hooks)
        assert bool(getattr(backend_class, flag)) == implemented, f"{flag} and {hooks} disagree"
    assert backend_class.capabilities() == {
        **{flag: bool(getattr(backend_class, flag)) for flag in CAPABILITIES},
        "accepts_attachments": backend_class.accepts_attachments,
    }


@pytest.mark.parametrize("key", KEYS)
def test_undeclared_capabilities_raise_not_implemented_naming_the_class(key, setting):
    backend = make(key, setting)
    calls = {
        "supports_status_poll": lambda: backend.poll_status("X-1"),
        "supports_callback": lambda: type(backend).parse_callback(b"{}"),
        "supports_inbox": lambda: backend.read_inbox(),
        "needs_browser_handoff": lambda: backend.handoff_url(order_document(), return_url="/", callback_url="/"),
        "accepts_scans": lambda: backend.scan_files(order_document()),
        "supports_cancellation": lambda: backend.cancel(cancellation_document(order_document())),
        "supports_lab_messages": lambda: backend.send_message(message_document(order_document())),
    }
    assert set(calls) == set(CAPABILITIES)
    for flag, call in calls.items():
        if getattr(backend, flag):
            continue
        with pytest.raises(NotImplementedError, match=type(backend).__name__):
            call()


# --- options --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_demo_options_are_accepted(key, setting):
    backend_class = registry.get_backend_class(key)
    options = demo_options(backend_class, setting)
    backend_class.validate_options(options)
    assert isinstance(make(key, setting), backend_class)


@pytest.mark.parametrize("key", KEYS)
def test_an_unknown_option_is_a_configuration_error_naming_it(key, setting):
    with pytest.raises(ConfigurationError, match="bestellkanal_xy"):
        make(key, setting, bestellkanal_xy="1")


@pytest.mark.parametrize("key", KEYS)
def test_a_missing_option_is_a_configuration_error_naming_it(key, setting):
    backend_class = registry.get_backend_class(key)
    options = demo_options(backend_class, setting)
    schema = backend_class.options_schema()
    for name in options:
        option = schema.by_name[name]
        reduced = {other: value for other, value in options.items() if other != name}
        try:
            backend_class(reduced)
        except ConfigurationError as exc:
            assert str(option.label) in exc.message, exc.message
        else:
            assert not option.required or option.default is not None, f"{name} is required but was not missed"


# --- the payload: every field carried or refused loudly -------------------------------------


@pytest.mark.parametrize("kind", DOCUMENTS)
@pytest.mark.parametrize("key", KEYS)
def test_every_item_field_is_carried_or_refused(key, kind, setting):
    backend = make(key, setting)
    refused = frozenset(backend.refused_item_fields)
    document = document_for(kind, setting, items=lambda ear: marked(ear, refused))
    backend.validate(document)
    payload = backend.build_payload(document)
    text = payload_text(payload)
    for item in document.items:
        assert not missing_fields(text, item, refused), f"{key} drops {missing_fields(text, item, refused)} ({kind})"
    without_cord = document_for(kind, setting, items=lambda ear: marked(ear, refused, cord=False))
    if "extraction_cord" not in refused:
        assert payload_text(backend.build_payload(without_cord)) != text, f"{key} drops extraction_cord"


@pytest.mark.parametrize("key", KEYS)
def test_refused_fields_are_refused_loudly(key, setting):
    backend = make(key, setting)
    for name in sorted(backend.refused_item_fields):
        default = getattr(ItemDocument(side="", side_label=""), name)
        value = {bool: True, int: 5, dict: {"style": "X"}}.get(type(default), "gesetzt")
        document = document_for("one ear", setting, items=lambda ear: replace(ear, **{name: value}))
        with pytest.raises(OrderRejected, match=name):
            backend.send(document)


@pytest.mark.parametrize("key", KEYS)
def test_scans_and_attachments_travel_where_declared(key, setting):
    backend = make(key, setting)
    with_scan = document_for("with scan", setting)
    if backend.accepts_scans:
        assert [content for _name, content, _type in backend.scan_files(with_scan)] == [SCAN_BYTES]
        assert SCAN_BYTES.decode() in payload_text(backend.build_payload(with_scan))
    with_attachment = document_for("with attachment", setting)
    if backend.accepts_attachments:
        text = payload_text(backend.build_payload(with_attachment))
        assert "ANHANGINHALTQ" in text and "AudiogrammQ.png" in text


# --- sending and its errors against real peers ---------------------------------------------


def answers_for(backend, setting):
    """Script the peers so that a send succeeds."""
    if isinstance(backend, HttpBackend):
        setting.http_lab.script(Reply.empty(204), repeat=True)


@pytest.mark.parametrize("kind", DOCUMENTS)
@pytest.mark.parametrize("key", KEYS)
def test_each_document_is_sent(key, kind, setting):
    backend = make(key, setting)
    answers_for(backend, setting)
    result = backend.send(document_for(kind, setting))
    assert isinstance(result, DispatchResult) and result.status in set(ResultStatus)
    assert result.status != ResultStatus.REJECTED
    if kind == "with attachment" and not backend.accepts_attachments:
        # Not carried, so not silent: staff read in the order's history what to send by hand.
        assert "AudiogrammQ.png" in result.message and "gesondert" in result.message


def http_cases(key, setting, *, follows_redirects_as_success=False):
    """One scripted answer per case (each send or check makes exactly one request)."""
    lab = setting.http_lab
    cases = [
        ("HTTP 503", Reply.status(503), TransientError),
        ("HTTP 429", Reply.status(429), TransientError),
        ("HTTP 400", Reply.json({"message": "Feld fehlt"}, status=400), PermanentError),
        ("HTTP 401", Reply.status(401), ConfigurationError),
        ("HTTP 302", Reply.status(302, headers={"Location": "/x"}), ConfigurationError),
        ("no answer in time", Reply.stalled(5.0), TransientError),
    ]
    if follows_redirects_as_success:  # a portal redirecting to its login page is reachable
        cases = [case for case in cases if case[0] != "HTTP 302"]
    return [
        (name, lambda reply=reply: lab.script(reply), expected, lambda: make(key, setting, timeout=0.5), None)
        for name, reply, expected in cases
    ]


def closed_port_url():
    return f"http://127.0.0.1:{free_port()}/lab"


def error_cases(key, setting):
    """``(method, [(name, prepare, expected error, backend factory, document transform)])``.

    One set per transport: HTTP (any ``HttpBackend``), browser portals, SMTP, the command
    line, the exchange folder. A backend with a transport of its own needs its set here.
    """
    backend_class = registry.get_backend_class(key)
    if backend_class.needs_browser_handoff:
        # Nothing is transmitted on send; the portal is reached by "Verbindung testen" only.
        return "check_connection", http_cases(key, setting, follows_redirects_as_success=True)
    if issubclass(backend_class, HttpBackend):
        down = {backend_class.endpoint_option: closed_port_url()}
        return "send", [
            *http_cases(key, setting),
            ("connection refused", lambda: None, TransientError, lambda: make(key, setting, **down), None),
        ]
    smtp, monkeypatch = setting.smtp, setting.monkeypatch
    if key == "standard":
        closed = free_port()
        return "send", [
            ("SMTP 451", lambda: smtp.script.append("451"), TransientError, lambda: make(key, setting), None),
            ("SMTP 550", lambda: smtp.script.append("550"), PermanentError, lambda: make(key, setting), None),
            ("mail server down", lambda: setattr(setting.settings, "EMAIL_PORT", closed), TransientError, lambda: make(key, setting), None),
            (
                "supplier orders by interface",
                lambda: None,
                ConfigurationError,
                lambda: make(key, setting),
                lambda document: replace(document, supplier_order_method="interface"),
            ),
        ]
    if key == "command_line":
        def program(mode):
            return lambda: make(key, setting, arguments=["--mode", mode, "{order_file}"])

        withdrawn = str(setting.tmp_path / "nothing-allowed")
        return "send", [
            ("exit 75", lambda: None, TransientError, program("tempfail"), None),
            ("exit 3", lambda: None, PermanentError, program("fail"), None),
            ("not allow-listed any more", lambda: monkeypatch.setenv(ALLOWLIST_ENV, withdrawn), ConfigurationError, program("ok"), None),
        ]
    if key == "otofaktur_otoport":
        def blocked_outbox():
            (setting.tmp_path / "exchange" / "blocked").write_text("a file where the folder belongs")

        def scan_gone(document):
            scan = scan_document(setting, "left")
            return replace(document, scans=(replace(scan, stored_name="scans/gone.stl"),))

        return "send", [
            ("outbox cannot be created", blocked_outbox, TransientError, lambda: make(key, setting, outbox_dir="blocked/out"), None),
            ("scan file gone", lambda: None, PermanentError, lambda: make(key, setting), scan_gone),
            ("exchange root withdrawn", lambda: monkeypatch.delenv(ROOT_ENV), ConfigurationError, lambda: make(key, setting), None),
        ]
    raise AssertionError(f"no error cases for the transport of {key!r}: add them to error_cases()")


@pytest.mark.parametrize("key", KEYS)
def test_failures_are_mapped_to_transient_permanent_and_configuration(key, setting):
    method, cases = error_cases(key, setting)
    seen = set()
    for name, prepare, expected, build, transform in cases:
        document = document_for("both ears", setting)
        if transform is not None:
            document = transform(document)
        backend = build()
        prepare()
        with pytest.raises(BackendError) as caught:
            backend.send(document) if method == "send" else backend.check_connection()
        error = caught.value
        assert isinstance(error, expected), f"{name}: {type(error).__name__}, not {expected.__name__}"
        assert error.permanent == (expected is not TransientError), name
        assert error.message.strip(), name
        seen.add(expected)
    assert seen == {TransientError, PermanentError, ConfigurationError}


def test_a_missing_scan_file_refuses_the_order_where_scans_travel(setting):
    document = document_for("with scan", setting)
    gone = replace(document, scans=(replace(document.scans[0], stored_name="scans/gone.stl"),))
    for key in KEYS:
        backend = make(key, setting)
        if backend.accepts_scans:
            with pytest.raises(OrderRejected, match="Scan-Datei"):
                backend.build_payload(gone)


# --- after the order left: cancellation and answers to questions ---------------------------


def cancel_keys():
    return [key for key in KEYS if registry.get_backend_class(key).supports_cancellation]


def message_keys():
    return [key for key in KEYS if registry.get_backend_class(key).supports_lab_messages]


def make_cancelling(key, setting, **overrides):
    return make(key, setting, **{**cancel_options(key, setting), **overrides})


def arrived(key, setting, backend, idempotency_key):
    """Whether the lab's side of the transport received something under ``idempotency_key``."""
    if isinstance(backend, HttpBackend):
        return [r.header("Idempotency-Key") for r in setting.http_lab.requests] == [idempotency_key]
    if key == "standard":
        return len(setting.smtp.accepted) == 1 and f"<{idempotency_key}@otoorder>".encode() in setting.smtp.accepted[0]
    if key == "otofaktur_otoport":
        names = os.listdir(setting.tmp_path / "exchange" / "otoport" / "out")
        return len(names) == 1 and names[0].startswith(idempotency_key)
    if key == "command_line":
        record = setting.tmp_path / "cancel-record.jsonl"
        runs = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
        return len(runs) == 1 and idempotency_key in runs[0]["argv"]
    raise AssertionError(f"the contract test does not know where {key!r} delivers: teach arrived()")


@pytest.mark.parametrize("key", KEYS)
def test_cancellation_reaches_the_lab_under_its_own_key_or_says_manual(key, setting):
    backend = make_cancelling(key, setting)
    if not backend.supports_cancellation:
        assert not overrides(type(backend), "cancel")
        return
    if isinstance(backend, HttpBackend):
        setting.http_lab.script(Reply.empty(202), repeat=True)
    request = cancellation_document(document_for("both ears", setting))
    result = backend.cancel(request)
    assert isinstance(result, CancelResult) and result.status in set(CancelStatus)
    assert result.message.strip()
    assert arrived(key, setting, backend, request.idempotency_key)
    assert "EM-10001" not in str(result.request_summary)
    # The same request again is the same request at the lab: the same key.
    if isinstance(backend, HttpBackend):
        backend.cancel(request)
        assert {r.header("Idempotency-Key") for r in setting.http_lab.requests} == {request.idempotency_key}


@pytest.mark.parametrize("key", KEYS)
def test_answers_to_questions_reach_the_lab_under_the_messages_id(key, setting):
    backend = make(key, setting)
    if not backend.supports_lab_messages:
        assert not overrides(type(backend), "send_message")
        return
    if isinstance(backend, HttpBackend):
        setting.http_lab.script(Reply.empty(204), repeat=True)
    message = message_document(document_for("one ear", setting))
    result = backend.send_message(message)
    assert isinstance(result, MessageResult) and result.message.strip()
    assert arrived(key, setting, backend, message.message_id)


def cancel_error_cases(key, setting):
    """``[(name, prepare, expected error, backend factory)]`` of a cancellation, per transport."""
    backend_class = registry.get_backend_class(key)
    if issubclass(backend_class, HttpBackend):
        down = {backend_class.endpoint_option: closed_port_url()}
        return [
            *((name, prepare, expected, build) for name, prepare, expected, build, _t in http_cases(key, setting)),
            ("connection refused", lambda: None, TransientError, lambda: make(key, setting, **down)),
        ]
    smtp, monkeypatch = setting.smtp, setting.monkeypatch
    if key == "standard":
        closed = free_port()
        return [
            ("SMTP 451", lambda: smtp.script.append("451"), TransientError, lambda: make(key, setting)),
            ("SMTP 550", lambda: smtp.script.append("550"), PermanentError, lambda: make(key, setting)),
            ("mail server down", lambda: setattr(setting.settings, "EMAIL_PORT", closed), TransientError, lambda: make(key, setting)),
        ]
    if key == "command_line":
        def program(mode):
            arguments = ["--mode", mode, "{order_file}", "{idempotency_key}"]
            return lambda: make_cancelling(key, setting, cancel_arguments=arguments)

        withdrawn = str(setting.tmp_path / "nothing-allowed")
        return [
            ("exit 75", lambda: None, TransientError, program("tempfail")),
            ("exit 3", lambda: None, PermanentError, program("fail")),
            ("not allow-listed any more", lambda: monkeypatch.setenv(ALLOWLIST_ENV, withdrawn), ConfigurationError, program("ok")),
        ]
    if key == "otofaktur_otoport":
        def blocked_outbox():
            (setting.tmp_path / "exchange" / "blocked").write_text("a file where the folder belongs")

        return [
            ("outbox cannot be created", blocked_outbox, TransientError, lambda: make(key, setting, outbox_dir="blocked/out")),
            ("exchange root withdrawn", lambda: monkeypatch.delenv(ROOT_ENV), ConfigurationError, lambda: make(key, setting)),
        ]
    raise AssertionError(f"no cancellation error cases for the transport of {key!r}: add them to cancel_error_cases()")


@pytest.mark.parametrize("key", KEYS)
def test_cancellation_failures_are_mapped_like_the_orders(key, setting):
    if not registry.get_backend_class(key).supports_cancellation:
        return
    seen = set()
    for name, prepare, expected, build in cancel_error_cases(key, setting):
        backend = build()
        prepare()
        with pytest.raises(BackendError) as caught:
            backend.cancel(cancellation_document(document_for("both ears", setting)))
        error = caught.value
        assert isinstance(error, expected), f"{name}: {type(error).__name__}, not {expected.__name__}"
        assert error.permanent == (expected is not TransientError), name
        assert error.message.strip(), name
        seen.add(expected)
    assert TransientError in seen and (PermanentError in seen or ConfigurationError in seen)
