"""Cancellations reach the lab through each kind of interface (issue [5], point 1).

A real Celery worker subprocess (Redis broker, the test database) carries the order and then
the cancellation; the labs are real loopback servers: the HTTP lab (Dreve SmartOrder), egger's
ERP whose ORDERCHANGE is validated against the official openTRANS 2.1 schema at the peer, the
Otoport exchange folders, the operator's command, the SMTP lab (aiosmtpd) of the standard
process by e-mail, and the manual path (print) where staff report it. Each is accepted and
refused; alice cancels through the API; nothing of our own is patched.
"""

import json

import pytest
from lxml import etree

from otoorder.backends import opentrans
from otoorder.orders import cancellation
from otoorder.orders.models import Cancellation, EarmouldOrder
from otoorder.orders.tasks import poll_labs
from otoorder.sandbox import egger as egger_sandbox
from suppliers.models import OrderMethod
from tests import factories as f
from tests.labs.http_lab import Reply

from .conftest import both_ears, wait_for
from .labkit import (
    DEMO_COMMAND,
    admin_api,  # noqa: F401 - fixture
    configure,
    lab_env,  # noqa: F401 - fixture
    lab_peer,  # noqa: F401 - fixture
    lab_supplier,
    place,
    staff_api,  # noqa: F401 - fixture
    wait_for_order,
)
from .test_lab_backends import DREVE, EGGER, GOOD_SECRET, _schema

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LAB_TIMEOUT = {"OTOORDER_TRANSPORT_TIMEOUT": "2"}


@pytest.fixture
def worker(start_worker, smtp_lab, lab_env):
    """One worker with the operator's environment, mailing through the SMTP lab."""
    return start_worker(email_url=smtp_lab.url, **lab_env.env, **LAB_TIMEOUT)


def cancel(api, order_id, reason="Kunde verzichtet"):
    response = api.post(f"orders/{order_id}/cancel/", {"reason": reason})
    assert response.status_code == 202, response.text
    return response.json()


#: The codes of the cancellation and question code (every event has a code).
CANCEL_AND_QUESTION = ("cancel_", "lab_question", "lab_answer", "lab_resumed")


def codes(order_id):
    order = EarmouldOrder.objects.get(pk=order_id)
    return [event.data["code"] for event in order.events.all() if event.data["code"].startswith(CANCEL_AND_QUESTION)]


# --- HTTP lab (Dreve SmartOrder) --------------------------------------------------------------


def test_http_lab_refuses_then_accepts_a_second_request(worker, lab_peer, admin_api, staff_api, transaction_obj, mitte):
    supplier = lab_supplier(DREVE.lab_name, mitte, DREVE.account)
    configure(admin_api, DREVE.backend, supplier, DREVE.options(lab_peer.url, GOOD_SECRET))
    lab_peer.script(DREVE.accept, method="POST", path=DREVE.path)
    path = f"{DREVE.path}/{DREVE.reference}/cancellation"
    lab_peer.script(
        Reply.json({"status": "refused", "message": "bereits in Fertigung"}, status=409),
        Reply.json({"status": "cancelled"}),
        method="POST",
        path=path,
    )
    created = place(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "confirmed")

    assert cancel(staff_api, created["id"])["status"] == "cancel_requested"
    detail = wait_for_order(staff_api, created["id"], "confirmed")
    assert "bereits in Fertigung" in detail["events"][-1]["message"]
    assert Cancellation.objects.get(order_id=created["id"], sequence=1).lab_answer == "bereits in Fertigung"

    cancel(staff_api, created["id"], reason="Kunde verstorben")
    wait_for_order(staff_api, created["id"], "cancelled")
    first, second = lab_peer.requests_to(path, "POST")
    assert first.header("Idempotency-Key") == f"{created['id']}-storno-1"
    assert second.header("Idempotency-Key") == f"{created['id']}-storno-2"
    assert second.header("Authorization") == DREVE.authorization(GOOD_SECRET)
    assert second.json()["reason"] == "Kunde verstorben"
    assert codes(created["id"]) == ["cancel_requested", "cancel_refused", "cancel_requested", "cancel_accepted"]


# --- egger ERP: openTRANS ORDERCHANGE -----------------------------------------------------------


def egger_erp(answers, changes):
    """egger's ERP: the ORDER confirmed; each ORDERCHANGE schema-checked and answered in turn
    (``True`` accepted, else the refusal's words) with an ORDERRESPONSE."""

    def reply(request):
        root = etree.fromstring(request.body)
        if root.tag != f"{{{opentrans.OPENTRANS_NS}}}ORDERCHANGE":
            return EGGER.accept(request)
        schema = _schema()
        assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]
        change = egger_sandbox.read_orderchange(request.body)
        changes.append(change)
        answer = answers.pop(0)
        return Reply.xml(
            egger_sandbox.cancellation_answer(
                change, EGGER.reference, accepted=answer is True, reason="" if answer is True else answer
            )
        )

    return reply


def test_egger_orderchange_is_schema_valid_refused_then_accepted(
    worker, lab_peer, admin_api, staff_api, transaction_obj, mitte
):
    supplier = lab_supplier(EGGER.lab_name, mitte, EGGER.account)
    configure(admin_api, EGGER.backend, supplier, EGGER.options(lab_peer.url, GOOD_SECRET))
    changes = []
    erp = egger_erp(["bereits gefräst", True], changes)
    lab_peer.script(erp, erp, erp, method="POST", path=EGGER.path)
    created = place(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "confirmed")

    cancel(staff_api, created["id"], reason="Kunde verzichtet")
    detail = wait_for_order(staff_api, created["id"], "confirmed")
    assert "bereits gefräst" in detail["events"][-1]["message"]
    cancel(staff_api, created["id"], reason="Kunde verzichtet endgültig")
    wait_for_order(staff_api, created["id"], "cancelled")

    first, second = changes
    assert (str(first["sequence"]), str(second["sequence"])) == ("1", "2")
    assert first["cancellation"] and second["cancellation"]
    assert second["key"] == f"{created['id']}-storno-2" and second["reason"] == "Kunde verzichtet endgültig"
    requests = lab_peer.requests_to(EGGER.path, "POST")
    assert [r.header("Idempotency-Key") for r in requests[1:]] == [
        f"{created['id']}-storno-1", f"{created['id']}-storno-2"
    ]
    order = EarmouldOrder.objects.get(pk=created["id"])
    attempts = list(order.attempts.filter(purpose="cancellation").values_list("subject", "outcome"))
    assert attempts == [("1", "cancel_refused"), ("2", "cancel_accepted")]


# --- Otofaktur Otoport: files ------------------------------------------------------------------

STATUS = '<?xml version="1.0" encoding="UTF-8"?><otoport-status version="1"><order-id>{id}</order-id>{body}</otoport-status>'


def otoport_answer(inbox, order_id, body):
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / f"{order_id}.status.xml").write_text(STATUS.format(id=order_id, body=body))
    poll_labs.delay()  # what beat publishes every OTOORDER_POLL_INTERVAL seconds


def test_otoport_cancellation_file_and_the_labs_status_files(worker, lab_env, admin_api, staff_api, transaction_obj, mitte):
    share = lab_env.exchange / "otoport"
    outbox, inbox = share / "out", share / "in"
    supplier = lab_supplier("Otofaktur", mitte, "O-5005")
    configure(admin_api, "otofaktur_otoport", supplier, {"outbox_dir": str(outbox), "inbox_dir": str(inbox)})
    created = place(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "ordered")
    otoport_answer(inbox, created["id"], "<status>accepted</status><lab-order-number>OTO-1</lab-order-number>")
    wait_for_order(staff_api, created["id"], "confirmed")

    cancel(staff_api, created["id"])
    first = outbox / f"{created['id']}-storno-1.cancel.xml"
    wait_for(first.exists, timeout=30, message="the cancellation file in the outbox")
    assert etree.parse(str(first)).getroot().tag == "otoport-cancellation"
    wait_for(lambda: "cancel_reported" in codes(created["id"]), timeout=30, message="the request delivered")
    assert EarmouldOrder.objects.get(pk=created["id"]).status == "cancel_requested"
    otoport_answer(
        inbox, created["id"], "<cancellation>refused</cancellation><cancellation-message>schon gedruckt</cancellation-message>"
    )
    detail = wait_for_order(staff_api, created["id"], "confirmed")
    assert "schon gedruckt" in detail["events"][-1]["message"]

    cancel(staff_api, created["id"])
    wait_for((outbox / f"{created['id']}-storno-2.cancel.xml").exists, timeout=30, message="the second file")
    wait_for(lambda: codes(created["id"]).count("cancel_reported") == 2, timeout=30, message="the second request")
    otoport_answer(inbox, created["id"], "<status>cancelled</status>")
    wait_for_order(staff_api, created["id"], "cancelled")


# --- the operator's command -------------------------------------------------------------------


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_command_line_cancel_command_refuses_then_accepts(worker, lab_env, admin_api, staff_api, transaction_obj, mitte, tmp_path):
    record = tmp_path / "runs.jsonl"
    supplier = lab_supplier("Kommandolabor", mitte, "C-6006")

    def options(mode):
        return {
            "executable": str(DEMO_COMMAND),
            "arguments": ["--record", str(record), "{order_file}"],
            "cancel_command": str(DEMO_COMMAND),
            "cancel_arguments": ["--record", str(record), "--mode", mode, "{idempotency_key}", "{reason}"],
        }

    definition = configure(admin_api, "command_line", supplier, options("refuse"))
    created = place(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "confirmed")

    cancel(staff_api, created["id"], reason="Kunde verzichtet")
    detail = wait_for_order(staff_api, created["id"], "confirmed")
    assert detail["events"][-1]["message"].startswith("Das Labor hat die Stornierung abgelehnt.")

    response = admin_api.patch(f"interface-definitions/{definition['id']}/", {"options": options("ok")})
    assert response.status_code == 200, response.text
    cancel(staff_api, created["id"], reason="Kunde verstorben")
    wait_for_order(staff_api, created["id"], "cancelled")
    runs = [run["argv"] for run in records(record)]
    assert len(runs) == 3  # the order, two cancellations
    assert f"{created['id']}-storno-1" in runs[1] and "Kunde verzichtet" in runs[1]
    assert f"{created['id']}-storno-2" in runs[2] and "Kunde verstorben" in runs[2]


# --- the standard process by e-mail, and the manual path (print) ---------------------------------


def email_order(staff_api, transaction_obj, supplier):
    response = staff_api.post(
        "orders/",
        {
            "transaction": str(transaction_obj.pk),
            "company": str(supplier.company_id),
            "supplier": str(supplier.pk),
            "items": both_ears(),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def storno_mails(smtp_lab, order):
    return [m for m in smtp_lab.accepted if "STORNO" in m["Subject"] and order.number in m["Subject"]]


@pytest.mark.parametrize("answer", ["accepted", "refused"])
def test_email_storno_mail_then_staff_record_the_labs_answer(
    worker, smtp_lab, staff_api, transaction_obj, dreve_supplier, alice, answer, customer
):
    created = email_order(staff_api, transaction_obj, dreve_supplier)
    wait_for_order(staff_api, created["id"], "ordered")
    order = EarmouldOrder.objects.get(pk=created["id"])

    cancel(staff_api, created["id"], reason="Kunde verzichtet")
    (mail,) = wait_for(lambda: storno_mails(smtp_lab, order), timeout=30, message="the STORNO e-mail at the lab")
    assert mail["To"] == dreve_supplier.order_email
    assert customer.last_name not in mail.get_body(preferencelist=("plain",)).get_content()
    wait_for(lambda: "cancel_reported" in codes(order.pk), timeout=30, message="the request delivered")
    assert EarmouldOrder.objects.get(pk=order.pk).status == "cancel_requested"

    # The lab answers by phone or mail: staff record it on the order page.
    cancellation.report(order, user=alice, reported_to="Frau Berg, E-Mail", outcome=answer, lab_answer="ok" if answer == "accepted" else "schon in Arbeit")
    order.refresh_from_db()
    assert order.status == ("cancelled" if answer == "accepted" else "ordered")
    assert len(storno_mails(smtp_lab, order)) == 1, "one STORNO mail"


@pytest.mark.parametrize("answer", ["accepted", "refused"])
def test_manual_path_staff_report_it(worker, staff_api, transaction_obj, dreve, mitte, alice, answer):
    supplier = f.SupplierFactory(company=dreve, order_method=OrderMethod.PRINT, phone_number="0451 999")
    f.SupplierAccountFactory(branch=mitte, supplier=supplier, account_number="P-1")
    created = email_order(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "awaiting_manual")
    assert staff_api.post(f"orders/{created['id']}/confirm/").status_code == 200

    cancel(staff_api, created["id"])
    wait_for_order(staff_api, created["id"], "cancel_to_report")
    order = EarmouldOrder.objects.get(pk=created["id"])
    cancellation.report(order, user=alice, reported_to="Herr Kahl, Telefon 0451 999", outcome=answer, lab_answer="gut")
    order.refresh_from_db()
    assert order.status == ("cancelled" if answer == "accepted" else "ordered")
    assert codes(order.pk)[-3:] == [
        "cancel_to_report", "cancel_reported", "cancel_accepted" if answer == "accepted" else "cancel_refused"
    ]
