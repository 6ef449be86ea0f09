"""A lab's question (Rückfrage) and staff's answer travel both ways with real parts (issue [5],
point 2): through the HTTP lab (Dreve SmartOrder: the question in its status poll, the answer
posted to its message endpoint) and by e-mail (the question read in a mail, the answer mailed
to the lab's order address at the SMTP lab). Staff answer through the API; a real worker
carries the answer; the lab resumes.
"""

import pytest

from otoorder.orders import lab_messages
from otoorder.orders.models import EarmouldOrder, OrderMessage
from otoorder.orders.tasks import poll_labs
from tests.labs.http_lab import Reply

from .conftest import wait_for
from .labkit import (
    admin_api,  # noqa: F401 - fixture
    configure,
    lab_env,  # noqa: F401 - fixture
    lab_peer,  # noqa: F401 - fixture
    lab_supplier,
    place,
    staff_api,  # noqa: F401 - fixture
    wait_for_order,
)
from .test_cancellation_labs import codes, email_order, worker  # noqa: F401 - fixture
from .test_lab_backends import DREVE, GOOD_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUESTION = "Gehörgang links zu kurz abgeformt – 2 mm verlängern oder neuer Abdruck?"


def delivered(message_id):
    return OrderMessage.objects.get(pk=message_id).state == "done"


def test_question_and_answer_through_the_http_lab(worker, lab_peer, admin_api, staff_api, transaction_obj, mitte):
    supplier = lab_supplier(DREVE.lab_name, mitte, DREVE.account)
    configure(admin_api, DREVE.backend, supplier, DREVE.options(lab_peer.url, GOOD_SECRET))
    lab_peer.script(DREVE.accept, method="POST", path=DREVE.path)
    status_path = f"{DREVE.path}/{DREVE.reference}"
    lab_peer.script(
        Reply.json({"order_number": DREVE.reference, "status": "on_hold", "question": QUESTION, "question_id": "Q-17"}),
        Reply.json({"order_number": DREVE.reference, "status": "in_production"}),
        method="GET",
        path=status_path,
    )
    messages_path = f"{status_path}/messages"
    lab_peer.script(Reply.json({"message_id": "DRV-MSG-9"}, status=201), method="POST", path=messages_path)
    created = place(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "confirmed")

    poll_labs.delay()  # what beat publishes every OTOORDER_POLL_INTERVAL seconds
    wait_for_order(staff_api, created["id"], "on_hold")
    (question,) = staff_api.get(f"orders/{created['id']}/messages/").json()["results"]
    assert (question["direction"], question["text"]) == ("from_lab", QUESTION)

    response = staff_api.post(f"orders/{created['id']}/messages/", {"text": "Bitte 2 mm verlängern."})
    assert response.status_code == 202, response.text
    answer = response.json()
    wait_for(lambda: delivered(answer["id"]), timeout=30, message="the answer delivered")
    (sent,) = lab_peer.requests_to(messages_path, "POST")
    assert sent.header("Idempotency-Key") == answer["id"]
    assert sent.header("Authorization") == DREVE.authorization(GOOD_SECRET)
    assert "Bitte 2 mm verlängern." in sent.body.decode()
    assert OrderMessage.objects.get(pk=answer["id"]).lab_message_id == "DRV-MSG-9"

    poll_labs.delay()
    wait_for_order(staff_api, created["id"], "in_production")
    assert codes(created["id"]) == ["lab_question", "lab_answer_sent", "lab_resumed"]
    thread = staff_api.get(f"orders/{created['id']}/messages/").json()["results"]
    assert [(m["direction"], m["delivery"]) for m in thread] == [("from_lab", "done"), ("to_lab", "done")]


def test_question_by_email_and_the_answer_mailed_to_the_lab(
    worker, smtp_lab, staff_api, transaction_obj, dreve_supplier, alice, customer
):
    created = email_order(staff_api, transaction_obj, dreve_supplier)
    wait_for_order(staff_api, created["id"], "ordered")
    order = EarmouldOrder.objects.get(pk=created["id"])
    # The lab asked in a mail to the branch: staff record it with its channel.
    lab_messages.record_staff_question(order, user=alice, text=QUESTION, channel="email")
    wait_for_order(staff_api, created["id"], "on_hold")

    response = staff_api.post(f"orders/{created['id']}/messages/", {"text": "Bitte 2 mm verlängern."})
    assert response.status_code == 202, response.text
    answer = response.json()
    wait_for(lambda: delivered(answer["id"]), timeout=30, message="the answer mailed")
    (mail,) = [m for m in smtp_lab.accepted if "Rückfrage" in m["Subject"]]
    assert order.number in mail["Subject"] and mail["To"] == dreve_supplier.order_email
    assert mail["Message-ID"] == f"<{answer['id']}@otoorder>"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"> {QUESTION}" in body and "Bitte 2 mm verlängern." in body
    assert customer.last_name not in body and customer.first_name not in body
