"""Kommandozeilenbefehl against the real demo program ``tests/bin/demo_lab_command``.

What the program received is read back from its own record file: its argv, the order file
it found, the names of its environment variables.
"""

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from otoorder.backends.command_line import CommandLineBackend, validate_arguments
from otoorder.backends.document import ItemDocument, PartyDocument
from otoorder.backends.exceptions import (
    ConfigurationError,
    OrderRejected,
    PermanentError,
    TransientError,
)
from otoorder.backends.result import ResultStatus
from otoorder.backends.transports import subprocess as subprocess_transport
from otoorder.backends.transports.subprocess import ALLOWLIST_ENV, validate_executable
from tests.documents import order_document
from tests.waiting import wait_for

BIN = Path(__file__).resolve().parents[1] / "bin"
DEMO = BIN / "demo_lab_command"
ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000c1"
ALL_PLACEHOLDERS = [
    "{order_id}",
    "--number={order_number}",
    "{order_file}",
    "{customer_reference}",
    "{supplier_account}",
    "{branch}",
    "{sides}",
]


def document(**overrides):
    return order_document(
        **{
            "order_id": ORDER_ID,
            "order_number": "OT-2026-000099",
            "priority": "standard",
            "branch": PartyDocument(name="Filiale Mitte", address_lines=("Hauptstraße 1", "10115 Berlin")),
            "supplier": PartyDocument(name="Labor Kommandozeile"),
            "items": (
                ItemDocument(side="right", side_label="rechts", style="shell", style_label="Schale"),
                ItemDocument(side="left", side_label="links", style="canal", style_label="Stöpsel"),
            ),
            **overrides,
        }
    )


@pytest.fixture
def allowlist(monkeypatch):
    monkeypatch.setenv(ALLOWLIST_ENV, str(BIN))


@pytest.fixture
def record(tmp_path):
    return tmp_path / "record.jsonl"


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def backend(record, *extra, mode="ok", arguments=None, timeout=10, executable=DEMO):
    args = ["--record", str(record), "--mode", mode, *(arguments if arguments is not None else ["{order_file}"]), *extra]
    return CommandLineBackend({"executable": str(executable), "arguments": args, "timeout_seconds": timeout})


def alive(pid):
    """Running (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in {"Z", "X"}


# --- success ----------------------------------------------------------------------------


def test_every_placeholder_arrives_as_one_argument_and_the_order_file_as_json(allowlist, record):
    doc = document()
    result = backend(record, arguments=ALL_PLACEHOLDERS).send(doc)
    [entry] = records(record)
    order_file = entry["argv"][7]
    assert entry["argv"][5:] == [
        ORDER_ID,
        "--number=OT-2026-000099",
        order_file,
        "EM-10001",
        "K-4711",
        "Filiale Mitte",
        "right,left",
    ]
    assert order_file.endswith(f"{ORDER_ID}.json")
    assert entry["order_files"][order_file] == json.loads(json.dumps(doc.as_dict()))
    assert entry["file_modes"][order_file] == "0o600"
    assert not os.path.exists(order_file)  # the private work folder is removed after the run
    assert result.status == ResultStatus.CONFIRMED
    assert result.external_reference == "CMD-1"
    assert "EM-10001" not in str(result.request_summary)


def test_exit_zero_without_reference_is_ordered(allowlist, record):
    result = backend(record, mode="noref").send(document())
    assert result.status == ResultStatus.ORDERED and result.external_reference == ""


def test_the_program_gets_a_minimal_environment(allowlist, record, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://secret@db/otoorder")
    monkeypatch.setenv("SECRET_KEY", "very-secret")
    backend(record).send(document())
    [entry] = records(record)
    assert set(entry["env"]) <= {"PATH", "LANG", "LC_ALL", "HOME", "PWD", "LC_CTYPE"}
    assert "SECRET_KEY" not in entry["env"] and ALLOWLIST_ENV not in entry["env"]


# --- injection --------------------------------------------------------------------------

INJECTIONS = [
    "; touch {canary}",
    "$(touch {canary})",
    "`touch {canary}`",
    "| touch {canary} && echo",
    "' \" ; touch {canary} #",
    "{{order_id}} {{0}} %s",
    "\n touch {canary}",
]


@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_in_every_placeholder_stays_inert(allowlist, record, tmp_path, attack):
    canary = tmp_path / "pwned"
    value = attack.format(canary=canary)
    doc = document(
        order_number=value,
        customer_reference=value,
        supplier_account=value,
        branch=PartyDocument(name=value),
        items=(ItemDocument(side=value, side_label="rechts"),),
    )
    backend(record, arguments=ALL_PLACEHOLDERS).send(doc)
    [entry] = records(record)
    assert entry["argv"][5:] == [ORDER_ID, f"--number={value}", entry["argv"][7], value, value, value, value]
    assert not canary.exists()


def test_order_id_must_be_a_uuid(allowlist, record):
    with pytest.raises(OrderRejected):
        backend(record).send(document(order_id="../../etc/x"))
    assert not record.exists()


# --- allow-list -------------------------------------------------------------------------


@pytest.fixture
def jail(tmp_path, monkeypatch):
    """An allow-listed folder holding a copy of the demo, and a program outside it."""
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    shutil.copy2(DEMO, allowed / "lab")
    shutil.copy2(DEMO, outside / "evil")
    (allowed / "link-out").symlink_to(outside / "evil")
    monkeypatch.setenv(ALLOWLIST_ENV, os.pathsep.join([str(allowed), str(tmp_path / "does-not-exist")]))
    return allowed, outside


def test_allow_listed_program_is_accepted(jail):
    allowed, _outside = jail
    assert validate_executable(str(allowed / "lab")) == os.path.realpath(allowed / "lab")


@pytest.mark.parametrize(
    "path",
    [
        lambda allowed, outside: str(outside / "evil"),
        lambda allowed, outside: str(allowed / "link-out"),  # symlink pointing outside
        lambda allowed, outside: f"{allowed}/../outside/evil",  # ../ trick
        lambda allowed, outside: f"{allowed}/../allowed/../outside/evil",
        lambda allowed, outside: str(allowed),  # the folder itself
        lambda allowed, outside: "/bin/sh",
        lambda allowed, outside: "lab",  # relative
        lambda allowed, outside: str(allowed / "missing"),
    ],
)
def test_programs_outside_the_allow_list_are_refused_at_save_and_at_run(jail, record, path):
    allowed, outside = jail
    executable = path(allowed, outside)
    schema = CommandLineBackend.options_schema()
    with pytest.raises(ValidationError) as refused:
        schema.validate({"executable": executable, "arguments": ["{order_file}"]})
    assert "executable" in refused.value.message_dict
    with pytest.raises(ConfigurationError):
        backend(record, executable=executable)
    with pytest.raises(ConfigurationError):
        subprocess_transport.run(executable, [], timeout=5, cwd=str(allowed))
    assert not record.exists()


def test_allow_list_is_checked_again_at_run_time(jail, record, monkeypatch):
    allowed, _outside = jail
    configured = backend(record, executable=allowed / "lab")
    monkeypatch.setenv(ALLOWLIST_ENV, "/nonexistent-folder")
    with pytest.raises(ConfigurationError, match="freigegeben"):
        configured.send(document())
    assert not record.exists()


def test_no_allow_list_means_no_program(record, monkeypatch):
    monkeypatch.delenv(ALLOWLIST_ENV, raising=False)
    with pytest.raises(ValidationError, match=ALLOWLIST_ENV):
        validate_executable(str(DEMO))


def test_connection_check_reports_the_allow_list(jail, record, monkeypatch):
    allowed, _outside = jail
    configured = backend(record, executable=allowed / "lab")
    assert configured.test_connection().ok
    monkeypatch.setenv(ALLOWLIST_ENV, "/nonexistent-folder")
    check = configured.test_connection()
    assert not check.ok and ALLOWLIST_ENV in check.message
    assert not record.exists()  # a connection test never runs the program


# --- placeholders -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argument, named",
    [
        ("{password}", "{password}"),
        ("--x={customer_name}", "{customer_name}"),
        ("{order_id.__class__}", "{order_id.__class__}"),
        ("{order_id[0]}", "{order_id[0]}"),
        ("{0}", "{0}"),
        ("{}", "{}"),
        ("{order_id!r}", "{order_id!r}"),
        ("{order_id:>40}", "{order_id:>40}"),
    ],
)
def test_unknown_placeholder_is_refused_naming_it(argument, named):
    with pytest.raises(ValidationError) as refused:
        validate_arguments(["{order_file}", argument])
    assert named in refused.value.messages[0]
    with pytest.raises(ValidationError) as on_save:
        CommandLineBackend.options_schema().validate({"executable": str(DEMO), "arguments": [argument]})
    assert named in " ".join(on_save.value.message_dict["arguments"])


def test_malformed_braces_are_refused_and_doubled_braces_are_text(allowlist, record):
    with pytest.raises(ValidationError, match="Klammer"):
        validate_arguments(["{order_id"])
    backend(record, arguments=["{{literal}}"]).send(document())
    assert records(record)[0]["argv"][5:] == ["{literal}"]


# --- failures ---------------------------------------------------------------------------


def test_non_zero_exit_fails_with_the_end_of_stderr(allowlist, record):
    with pytest.raises(PermanentError) as failed:
        backend(record, mode="fail").send(document())
    message = failed.value.message
    assert "Fehlercode 3" in message
    assert message.endswith("Auftrag abgelehnt: Kundennummer unbekannt")
    assert "Protokollzeile 0:" not in message  # trimmed to the last ~500 characters
    assert len(message) < 600


def test_tempfail_exit_code_is_retried(allowlist, record):
    with pytest.raises(TransientError, match="nicht erreichbar"):
        backend(record, mode="tempfail").send(document())


def test_hanging_program_is_killed_at_its_time_limit(allowlist, record):
    started = time.monotonic()
    with pytest.raises(PermanentError, match="Zeitlimit von 1 s überschritten"):
        backend(record, mode="hang", timeout=1).send(document())
    assert time.monotonic() - started < 5
    entries = records(record)
    pids = [entries[0]["pid"]] + [entry["child_pid"] for entry in entries if "child_pid" in entry]
    assert len(pids) == 2  # the program and the child it started
    wait_for(lambda: not any(alive(pid) for pid in pids), timeout=3, interval=0.05, message="the program and its child to be gone")
