"""Kommandozeilenbefehl's optional cancel program, against the real demo program
``tests/bin/demo_lab_command`` (what it received is read back from its record file).

The cancel program obeys the same rules as the order program: the operator's allow-list
(checked when saving, when building and right before the run), no shell, the time limit, the
placeholders of the order plus the cancellation's, refused when unknown.
"""

import json
import shutil

import pytest
from django.core.exceptions import ValidationError

from otoorder.backends.command_line import (
    CANCEL_PLACEHOLDERS,
    EXIT_CANCEL_REFUSED,
    CommandLineBackend,
)
from otoorder.backends.exceptions import ConfigurationError, OrderRejected, PermanentError, TransientError
from otoorder.backends.result import CancelStatus
from otoorder.backends.transports.subprocess import ALLOWLIST_ENV

from .test_command_line import DEMO, INJECTIONS, ORDER_ID, document, records
from .test_contract import cancellation_document

KEY = f"{ORDER_ID}-storno-1"


@pytest.fixture
def allowlist(monkeypatch):
    monkeypatch.setenv(ALLOWLIST_ENV, str(DEMO.parent))


@pytest.fixture
def record(tmp_path):
    return tmp_path / "record.jsonl"


def cancelling(record, mode="ok", arguments=None, cancel_command=DEMO, timeout=10):
    args = ["--record", str(record), "--mode", mode, *(arguments or ["{order_file}", "{idempotency_key}", "{reason}"])]
    return CommandLineBackend(
        {
            "executable": str(DEMO),
            "arguments": ["{order_file}"],
            "timeout_seconds": timeout,
            "cancel_command": str(cancel_command),
            "cancel_arguments": args,
        }
    )


def request(**order_overrides):
    return cancellation_document(document(**order_overrides), lab_reference="CMD-7")


def test_exit_zero_accepts_and_the_program_gets_the_order_and_the_cancellation(allowlist, record):
    result = cancelling(
        record, arguments=["{order_file}", "{idempotency_key}", "{reason}", "{lab_reference}", "{sequence}", "{order_number}"]
    ).cancel(request())

    [entry] = records(record)
    order_file = entry["argv"][5]
    assert entry["argv"][6:] == [KEY, "Kunde hat sich anders entschieden", "CMD-7", "1", "OT-2026-000099"]
    assert entry["order_files"][order_file]["order_id"] == ORDER_ID
    assert entry["file_modes"][order_file] == "0o600"
    assert result.status == CancelStatus.ACCEPTED
    assert result.message == "Vom Programm storniert."
    assert result.request_summary["idempotency_key"] == KEY
    assert result.request_summary["exit_code"] == 0


def test_the_documented_refusal_code_refuses_with_the_programs_words(allowlist, record):
    result = cancelling(record, mode="refuse").cancel(request())

    assert EXIT_CANCEL_REFUSED == 10
    assert result.status == CancelStatus.REFUSED
    assert result.lab_message == "Stornierung abgelehnt: bereits in Fertigung"
    assert "bereits in Fertigung" in result.message


def test_tempfail_is_retried_and_other_codes_fail_visibly(allowlist, record):
    with pytest.raises(TransientError):
        cancelling(record, mode="tempfail").cancel(request())
    with pytest.raises(PermanentError, match="Fehlercode 3"):
        cancelling(record, mode="fail").cancel(request())


def test_a_hanging_cancel_program_is_killed_at_the_time_limit(allowlist, record):
    with pytest.raises(PermanentError, match="Zeitlimit"):
        cancelling(record, mode="hang", timeout=1).cancel(request())


def test_without_a_cancel_program_staff_report_the_cancellation(allowlist, record):
    configured = CommandLineBackend({"executable": str(DEMO), "arguments": ["--record", str(record), "{order_file}"]})

    result = configured.cancel(request())

    assert result.status == CancelStatus.MANUAL
    assert "beim Labor melden" in result.message
    assert not record.exists()


@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_in_the_cancellations_placeholders_stays_inert(allowlist, record, tmp_path, attack):
    canary = tmp_path / "pwned"
    value = attack.format(canary=canary)
    doc = document()
    cancellation = cancellation_document(doc, lab_reference=value)
    cancellation = type(cancellation)(**{**cancellation.__dict__, "reason": value})

    cancelling(record, arguments=["{reason}", "--ref={lab_reference}", "{idempotency_key}"]).cancel(cancellation)

    [entry] = records(record)
    assert entry["argv"][5:] == [value, f"--ref={value}", KEY]
    assert not canary.exists()


def test_cancel_command_outside_the_allow_list_is_refused_at_save_and_at_run(allowlist, record, tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy2(DEMO, outside / "evil")
    schema = CommandLineBackend.options_schema()

    with pytest.raises(ValidationError) as refused:
        schema.validate({"executable": str(DEMO), "cancel_command": str(outside / "evil")})
    assert "cancel_command" in refused.value.message_dict
    with pytest.raises(ConfigurationError):
        cancelling(record, cancel_command=outside / "evil")

    configured = cancelling(record)
    monkeypatch.setenv(ALLOWLIST_ENV, str(tmp_path / "nothing"))
    with pytest.raises(ConfigurationError, match="freigegeben"):
        configured.cancel(request())
    assert not record.exists()


@pytest.mark.parametrize("argument", ["{password}", "{reason!r}", "{reason.__class__}", "{0}", "{idempotency_key"])
def test_unknown_cancel_placeholders_are_refused_when_saving(allowlist, argument):
    with pytest.raises(ValidationError) as refused:
        CommandLineBackend.options_schema().validate(
            {"executable": str(DEMO), "cancel_command": str(DEMO), "cancel_arguments": [argument]}
        )
    assert "cancel_arguments" in refused.value.message_dict


def test_the_cancellations_placeholders_are_not_offered_to_the_order_program(allowlist):
    with pytest.raises(ValidationError, match="reason"):
        CommandLineBackend.options_schema().validate({"executable": str(DEMO), "arguments": ["{reason}"]})
    assert set(CANCEL_PLACEHOLDERS) > {"reason", "idempotency_key", "lab_reference", "sequence", "order_file"}


def test_cancel_arguments_without_a_cancel_program_are_refused(allowlist):
    with pytest.raises(ConfigurationError, match="Stornierungen"):
        CommandLineBackend({"executable": str(DEMO), "cancel_arguments": ["{reason}"]})


def test_an_order_id_that_is_no_uuid_is_refused(allowlist, record):
    with pytest.raises(OrderRejected):
        cancelling(record).cancel(request(order_id="../../etc/x"))
    assert not record.exists()


def test_the_connection_check_names_both_programs(allowlist, record):
    check = cancelling(record).test_connection()

    assert check.ok and check.message.count(str(DEMO.resolve())) == 2


def test_the_sandbox_demo_cancel_program_accepts(monkeypatch, tmp_path):
    from pathlib import Path

    sandbox_bin = Path(__file__).resolve().parents[2] / "otoorder" / "sandbox" / "bin"
    monkeypatch.setenv(ALLOWLIST_ENV, str(sandbox_bin))
    configured = CommandLineBackend(
        {
            "executable": str(sandbox_bin / "demo-lab-order"),
            "arguments": ["{order_id}", "{order_file}"],
            "cancel_command": str(sandbox_bin / "demo-lab-cancel"),
            "cancel_arguments": ["{order_id}", "{order_file}", "{idempotency_key}", "{reason}"],
        }
    )

    result = configured.cancel(request())

    assert result.status == CancelStatus.ACCEPTED
    assert json.dumps(result.request_summary)
