"""Acceptance of the local lab interfaces with a real peer (issue [2]): Kommandozeilenbefehl
(the real program ``tests/bin/demo_lab_command``) and Otofaktur Otoport (real exchange folders).

As for the HTTP labs (``test_lab_backends.py``): dave configures through the API, alice
orders through the API, a real Celery worker subprocess sends; what the program received
(argv and order file) or what lies in the outbox is compared field by field with the order.
"""

import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest
from lxml import etree

from otoorder.orders.tasks import poll_labs

from .conftest import wait_for
from .labkit import (
    DEMO_COMMAND,
    admin_api,  # noqa: F401 - fixture
    assert_no_personal_data,
    canonical,
    configure,
    expected_fields,
    lab_broker,  # noqa: F401 - fixture
    lab_env,  # noqa: F401 - fixture
    lab_supplier,
    lab_worker,  # noqa: F401 - fixture
    outcomes,
    place,
    reconfigure,
    resend,
    staff_api,  # noqa: F401 - fixture
    statuses,
    wait_for_order,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACCOUNT = "KZ-5005"


# --- Kommandozeilenbefehl -------------------------------------------------------------------------


def records(path):
    """What the demo program wrote per run (its argv, order files, environment names)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def order_file_fields(content):
    header = {
        "id": content["order_id"],
        "number": content["order_number"],
        "order_type": content["order_type"],
        "priority": content["priority"],
        "date_required": content["date_required"],
        "account": content["supplier_account"],
        "customer_reference": content["customer_reference"],
        "notes": content["notes"],
    }
    return canonical(header, [(item["side"], item) for item in content["items"]])


def command_options(record, *extra, executable=DEMO_COMMAND, timeout=10):
    return {
        "executable": str(executable),
        "arguments": [*extra, "--record", str(record), "{order_file}"],
        "timeout_seconds": timeout,
    }


@pytest.fixture
def short_tmp():
    """A folder with a short path (a branch name holds at most 200 characters)."""
    path = Path(tempfile.mkdtemp(prefix="otoinj-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def is_gone(pid):
    """The process has ended (a zombie nobody reaped yet counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_command_line_gets_every_placeholder_and_the_order_file_and_injections_stay_inert(
    lab_worker, lab_env, admin_api, staff_api, transaction_obj, mitte, customer, tmp_path, short_tmp
):
    traps = [short_tmp / "a", short_tmp / "b", short_tmp / "c"]
    # The branch name is a placeholder value: shell syntax in it must stay text.
    mitte.name = f'Filiale "Mitte"; touch {traps[0]} && $(touch {traps[1]}) `touch {traps[2]}` | rm -rf /'
    mitte.save()
    supplier = lab_supplier("Labor Kommandozeile", mitte, ACCOUNT)
    record = tmp_path / "runs.jsonl"
    placeholders = [
        "--id={order_id}", "{order_number}", "{customer_reference}", "{supplier_account}", "{branch}", "{sides}",
    ]  # fmt: skip
    configure(admin_api, "command_line", supplier, command_options(record, *placeholders))

    created = place(staff_api, transaction_obj, supplier)

    detail = wait_for_order(staff_api, created["id"], "confirmed", "failed")
    assert detail["status"] == "confirmed", detail["failure_reason"]
    (run,) = records(record)
    expected = expected_fields(created["id"], ACCOUNT)
    (order_file,) = run["order_files"]
    argv = run["argv"]
    assert argv[0] == os.path.realpath(DEMO_COMMAND)
    # One argv item per template, each exactly its value; sides in the order of the items.
    assert argv[1:6] == [
        f"--id={created['id']}", expected["number"], expected["customer_reference"], ACCOUNT, mitte.name,
    ]  # fmt: skip
    assert sorted(argv[6].split(",")) == ["left", "right"]
    assert argv[7:] == ["--record", str(record), order_file]
    assert not any(trap.exists() for trap in traps), "a placeholder value reached a shell"
    # The order file: named by the UUID, private, complete, gone after the run.
    assert os.path.basename(order_file) == f"{created['id']}.json"
    assert run["file_modes"][order_file] == "0o600"
    assert order_file_fields(run["order_files"][order_file]) == expected
    assert_no_personal_data(json.dumps(run["order_files"]), customer)
    assert not os.path.exists(order_file)
    # The program learns nothing of our environment (no database URL, no secrets).
    assert run["env"] == ["HOME", "LANG", "LC_ALL", "PATH"]
    assert detail["external_reference"] == "CMD-1"
    assert statuses(detail) == ["queued", "sending", "confirmed"]
    assert outcomes(detail) == ["confirmed"]
    assert "CMD-1" in detail["events"][-1]["message"]


FLAKY_LAB = """#!/bin/sh
# A lab program that is down (exit 75, "try again later") while the flag file exists.
flag="$1"
shift
if [ -e "$flag" ]; then
    exec {demo} --mode tempfail "$@"
fi
exec {demo} "$@"
"""


def test_command_line_temporary_failure_is_retried_until_the_lab_program_recovers(
    lab_worker, lab_env, admin_api, staff_api, transaction_obj, mitte, tmp_path
):
    program = lab_env.commands / "flaky_lab"
    program.write_text(FLAKY_LAB.format(demo=DEMO_COMMAND))
    program.chmod(0o755)
    down = tmp_path / "lab-down"
    down.touch()
    supplier = lab_supplier("Labor Kommandozeile", mitte, ACCOUNT)
    record = tmp_path / "runs.jsonl"
    configure(admin_api, "command_line", supplier, command_options(record, str(down), executable=program))

    created = place(staff_api, transaction_obj, supplier)

    wait_for(lambda: len(records(record)) >= 2, timeout=20, message="two runs while the lab is down")
    down.unlink()
    detail = wait_for_order(staff_api, created["id"], "confirmed", "failed")
    assert detail["status"] == "confirmed", detail["failure_reason"]
    runs = records(record)
    assert len(runs) == len(detail["attempts"]) >= 3
    for run in runs:  # every run got the same order, named by its UUID
        ((name, content),) = run["order_files"].items()
        assert os.path.basename(name) == f"{created['id']}.json" and content["order_id"] == created["id"]
    assert outcomes(detail) == ["transient_error"] * (len(runs) - 1) + ["confirmed"]
    assert detail["attempts"][0]["error"] == (
        "Das Programm endete mit Fehlercode 75. Laborsystem gerade nicht erreichbar"
    )
    assert not detail["attempts"][0]["permanent"]
    assert detail["external_reference"] == f"CMD-{len(runs)}"


def test_command_line_failure_and_hang_fail_the_order_readably_then_resend_after_the_fix(
    lab_worker, lab_env, admin_api, staff_api, transaction_obj, mitte, tmp_path
):
    supplier = lab_supplier("Labor Kommandozeile", mitte, ACCOUNT)
    record = tmp_path / "runs.jsonl"
    definition = configure(admin_api, "command_line", supplier, command_options(record, "--mode", "fail"))

    created = place(staff_api, transaction_obj, supplier)

    # Exit code 3: failed at once, with the end of the program's error output.
    detail = wait_for_order(staff_api, created["id"], "failed", "confirmed")
    reason = detail["failure_reason"]
    assert reason.startswith("Das Programm endete mit Fehlercode 3. ")
    assert reason.endswith("Auftrag abgelehnt: Kundennummer unbekannt")
    assert "Protokollzeile 0:" not in reason and len(reason) < 700, "stderr is trimmed to its end"
    assert outcomes(detail) == ["permanent_error"]

    # Now the program hangs: it is killed at its 1 s limit, with everything it started.
    reconfigure(admin_api, definition, command_options(record, "--mode", "hang", timeout=1))
    started = time.monotonic()
    resend(staff_api, created["id"])
    detail = wait_for_order(staff_api, created["id"], "failed", "confirmed")
    assert time.monotonic() - started < 10
    assert detail["failure_reason"] == "Zeitlimit von 1 s überschritten; das Programm wurde beendet."
    assert outcomes(detail) == ["permanent_error", "permanent_error"]
    hung, child = records(record)[1:]
    wait_for(lambda: is_gone(hung["pid"]) and is_gone(child["child_pid"]), timeout=5, message="the hung program killed")

    # Fixed: alice sends once more and the lab program takes it.
    reconfigure(admin_api, definition, command_options(record))
    resend(staff_api, created["id"])
    detail = wait_for_order(staff_api, created["id"], "confirmed", "failed")
    assert detail["status"] == "confirmed", detail["failure_reason"]
    assert detail["external_reference"] == f"CMD-{len(records(record))}"
    assert outcomes(detail) == ["permanent_error", "permanent_error", "confirmed"]
    assert statuses(detail) == [
        "queued", "sending", "failed",
        "queued", "sending", "failed",
        "queued", "sending", "confirmed",
    ]  # fmt: skip


def option_errors(response):
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"]
    return body


def test_command_line_executable_outside_the_allow_list_is_refused_at_save(
    live_server, lab_env, admin_api, mitte, tmp_path
):
    supplier = lab_supplier("Labor Kommandozeile", mitte, ACCOUNT)
    record = tmp_path / "runs.jsonl"
    outside = {"executable": "/bin/echo", "arguments": ["{order_file}"], "timeout_seconds": 5}
    sneaky = lab_env.commands / "harmless"
    sneaky.symlink_to("/bin/sh")  # inside the allowed folder, but resolves outside it

    for options, named in ((outside, "/bin/echo"), ({**outside, "executable": str(sneaky)}, str(sneaky))):
        response = admin_api.post(
            "interface-definitions/",
            {"name": "Kommandozeile", "backend": "command_line", "companies": [str(supplier.company_id)],
             "supplier": str(supplier.pk), "options": options},
        )  # fmt: skip
        body = option_errors(response)
        assert "nicht in einem freigegebenen Ordner" in json.dumps(body, ensure_ascii=False)
        assert named in json.dumps(body, ensure_ascii=False)

    definition = configure(admin_api, "command_line", supplier, command_options(record))
    path = f"interface-definitions/{definition['id']}/"
    response = admin_api.patch(path, {"options": {**command_options(record), "executable": "/usr/bin/env"}})
    text = json.dumps(option_errors(response), ensure_ascii=False)
    assert "/usr/bin/env" in text and "OTOORDER_COMMAND_ALLOWLIST" in text
    response = admin_api.patch(path, {"options": {**command_options(record), "arguments": ["{password}"]}})
    assert "{password}" in json.dumps(option_errors(response), ensure_ascii=False)
    stored = admin_api.get(path).json()
    assert stored["options"] == command_options(record), "a refused change leaves the definition as it was"


# --- Otofaktur Otoport ----------------------------------------------------------------------------

OTOPORT_ITEM = {
    "product-family": "product_family", "style": "style", "material": "material", "colour": "colour",
    "vent-type": "vent_type", "vent-diameter-mm": "vent_diameter_mm", "tube": "tube",
    "receiver-power": "receiver_power", "receiver-length": "receiver_length", "quantity": "quantity",
    "notes": "notes",
}  # fmt: skip


def otoport_fields(path):
    root = etree.parse(str(path)).getroot()
    assert root.tag == "otoport-order" and root.get("version") == "1"
    header = {
        "id": root.findtext("order-id"),
        "number": root.findtext("order-number"),
        "order_type": root.findtext("order-type"),
        "priority": root.findtext("priority"),
        "date_required": root.findtext("date-required"),
        "account": root.findtext("supplier-account"),
        "customer_reference": root.findtext("customer-reference"),
        "notes": root.findtext("notes"),
    }
    items = [
        (item.get("side"), {ours: item.findtext(theirs) for theirs, ours in OTOPORT_ITEM.items()})
        for item in root.iterfind("items/item")
    ]
    return canonical(header, items)


def otoport_options(outbox, inbox):
    return {"outbox_dir": str(outbox), "inbox_dir": str(inbox)}


STATUS_FILE = """<?xml version="1.0" encoding="UTF-8"?>
<otoport-status version="1">
  <order-id>{order_id}</order-id>
  <status>accepted</status>
  <lab-order-number>OTO-2026-808</lab-order-number>
</otoport-status>
"""


def test_otoport_order_file_arrives_once_the_outbox_is_back_and_the_lab_answer_is_read(
    lab_worker, lab_env, admin_api, staff_api, transaction_obj, mitte, customer
):
    share = lab_env.exchange / "otoport"
    outbox, inbox = share / "out", share / "in"
    supplier = lab_supplier("Otofaktur", mitte, ACCOUNT)
    configure(admin_api, "otofaktur_otoport", supplier, otoport_options(outbox, inbox))
    share.mkdir()
    outbox.write_text("not a folder: the share is not mounted yet")

    created = place(staff_api, transaction_obj, supplier)

    def transient_attempts():
        detail = staff_api.get(f"orders/{created['id']}/").json()
        return [a for a in detail["attempts"] if a["outcome"] == "transient_error"]

    (first, *_) = wait_for(transient_attempts, timeout=20, message="an attempt while the outbox is blocked")
    assert "kann nicht angelegt werden" in first["error"]
    outbox.unlink()
    detail = wait_for_order(staff_api, created["id"], "ordered", "failed")
    assert detail["status"] == "ordered", detail["failure_reason"]
    assert sorted(os.listdir(outbox)) == [f"{created['id']}.xml"], "one file, no temporary leftovers"
    order_file = outbox / f"{created['id']}.xml"
    assert stat.S_IMODE(order_file.stat().st_mode) == 0o640
    assert otoport_fields(order_file) == expected_fields(created["id"], ACCOUNT)
    assert_no_personal_data(order_file.read_bytes(), customer)
    assert detail["external_reference"] == ""
    assert outcomes(detail)[-1] == "ordered" and set(outcomes(detail)[:-1]) == {"transient_error"}
    assert statuses(detail)[-2:] == ["sending", "ordered"]

    # The lab answers with a status file in the inbox; the worker's poll run applies it.
    inbox.mkdir()
    (inbox / f"{created['id']}.status.xml").write_text(STATUS_FILE.format(order_id=created["id"]))
    poll_labs.delay()
    detail = wait_for_order(staff_api, created["id"], "confirmed")
    assert detail["external_reference"] == "OTO-2026-808"
    assert "OTO-2026-808" in detail["events"][-1]["message"]
    assert sorted(os.listdir(inbox / "processed")) == [f"{created['id']}.status.xml"]


def test_otoport_outbox_swapped_outside_the_exchange_root_fails_and_resend_after_the_fix(
    lab_worker, lab_env, admin_api, staff_api, transaction_obj, mitte, tmp_path
):
    share = lab_env.exchange / "otoport"
    share.mkdir()
    outbox, inbox, elsewhere = share / "out", share / "in", tmp_path / "elsewhere"
    supplier = lab_supplier("Otofaktur", mitte, ACCOUNT)
    definition = configure(admin_api, "otofaktur_otoport", supplier, otoport_options(outbox, inbox))
    # After the save, someone points the outbox at a folder outside the exchange root.
    elsewhere.mkdir()
    outbox.symlink_to(elsewhere)

    created = place(staff_api, transaction_obj, supplier)

    detail = wait_for_order(staff_api, created["id"], "failed", "ordered")
    assert detail["status"] == "failed"
    assert detail["failure_reason"].endswith(
        f"Der Ordner {outbox} liegt nicht im freigegebenen Austauschordner (OTOORDER_EXCHANGE_ROOT)."
    )
    assert outcomes(detail) == ["permanent_error"]
    assert os.listdir(elsewhere) == [], "nothing is written outside the exchange root"

    fixed_outbox = share / "ausgang"
    reconfigure(admin_api, definition, otoport_options(fixed_outbox, inbox))
    resend(staff_api, created["id"])

    detail = wait_for_order(staff_api, created["id"], "ordered", "failed")
    assert detail["status"] == "ordered", detail["failure_reason"]
    assert os.listdir(fixed_outbox) == [f"{created['id']}.xml"]
    assert os.listdir(elsewhere) == []
    assert outcomes(detail) == ["permanent_error", "ordered"]
    assert statuses(detail) == ["queued", "sending", "failed", "queued", "sending", "ordered"]
