"""The two browser portals through the API with a real worker (issue [2]).

dave configures the portal interface through the API, alice orders through the API, a real
Celery worker subprocess "sends" it: the order waits for the portal (``awaiting_portal``).
The portal's signed JSON callback (``docs/interfaces/audia_easy_order_portal.md``, signed
with ``otoorder.backends.signing.sign``) to ``/api/v1/callbacks/<definition id>/`` confirms
it: ``GET /api/v1/orders/{id}/`` shows the lab's number, status word and Bestelldaten
(``lab_properties``), later the tracking number. A rejection by the portal makes the order
``rejected_by_lab``; „erneut senden“ hands it to the portal again.

The browser walk of the same hand-off: ``test_portal_browser.py``.
"""

import json
import time
import uuid

import pytest
import requests

from otoorder.backends import signing

from .labkit import (
    admin_api,  # noqa: F401 - fixture
    configure,
    lab_broker,  # noqa: F401 - fixture
    lab_env,  # noqa: F401 - fixture
    lab_supplier,
    lab_worker,  # noqa: F401 - fixture
    outcomes,
    place,
    resend,
    staff_api,  # noqa: F401 - fixture
    statuses,
    wait_for_order,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECRET = "portal-geheimnis-api"
PORTALS = {
    "audia_easy_order_portal": ("audia Portal", "https://portal.audia.example/otoorder", "AUP-4711"),
    "egger_bestellsystem": ("egger (alt)", "https://bestellsystem.egger.example/otoorder", "EGP-0815"),
}
PROPERTIES = {
    "right": {"style": "shell", "material": "acrylic", "vent_diameter_mm": 1.5, "surface_finish": "lackiert"},
    "left": {"style": "canal", "material": "silicone", "receiver_power": "M", "antibakteriell": True},
}


class Portal:
    """The lab's portal side: signed JSON callbacks to the definition's endpoint."""

    def __init__(self, live_server, definition_id, secret=SECRET):
        self.url = f"{live_server.url}/api/v1/callbacks/{definition_id}/"
        self.secret = secret
        self.session = requests.Session()
        self.session.trust_env = False

    def report(self, order_id, status, *, timestamp=None, **fields):
        """POST one report, signed now (or at ``timestamp``)."""
        body = json.dumps({"order_id": order_id, "status": status, **fields}).encode("utf-8")
        return self.post(body, signing.sign(self.secret, body, timestamp=timestamp))

    def post(self, body, signature):
        headers = {"Content-Type": "application/json", signing.HEADER: signature}
        return self.session.post(self.url, data=body, headers=headers, timeout=10)

    def close(self):
        self.session.close()


@pytest.fixture
def portal_order(request, lab_worker, admin_api, staff_api, live_server, transaction_obj, mitte):
    """An order through the API for a portal lab, waiting for the portal; with its ``Portal``."""
    backend = request.param
    name, portal_url, _reference = PORTALS[backend]
    supplier = lab_supplier(name, mitte, "AP-7301")
    definition = configure(admin_api, backend, supplier, {"portal_url": portal_url, "shared_secret": SECRET})
    assert definition["options"] == {"portal_url": portal_url}  # the secret is write-only
    created = place(staff_api, transaction_obj, supplier)
    detail = wait_for_order(staff_api, created["id"], "awaiting_portal")
    portal = Portal(live_server, definition["id"])
    yield backend, definition, detail, portal
    portal.close()


@pytest.mark.parametrize("portal_order", list(PORTALS), indirect=True)
def test_portal_order_waits_then_the_signed_callback_confirms_it(portal_order, staff_api):
    backend, definition, detail, portal = portal_order
    order_id = detail["id"]
    assert detail["backend"] == backend and detail["interface_definition"]["id"] == definition["id"]
    assert statuses(detail) == ["queued", "sending", "awaiting_portal"]
    assert outcomes(detail) == ["awaiting_portal"]
    assert detail["external_reference"] == "" and detail["lab_properties"] in ({}, None)
    assert detail["events"][-1]["message"] == "Portal-Übergabe bereit: Bestellung im Portal abschließen."

    reference = PORTALS[backend][2]
    report = {"order_number": reference, "properties": PROPERTIES, "message": "Im Portal bestellt."}
    # Signed 30 seconds ago: the portal's first delivery, which it retries below.
    answer = portal.report(order_id, "confirmed", timestamp=time.time() - 30, **report)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"applied": 1, "unchanged": 0}

    detail = staff_api.get(f"orders/{order_id}/").json()
    assert detail["status"] == "confirmed" and detail["status_label"] == "vom Labor bestätigt"
    assert detail["external_reference"] == reference
    assert detail["external_status"] == "confirmed"
    assert detail["lab_properties"] == PROPERTIES
    assert detail["ordered_at"]
    event = detail["events"][-1]
    assert (event["from_status"], event["to_status"], event["source"]) == ("awaiting_portal", "confirmed", "lab")
    assert reference in event["message"] and "Im Portal bestellt." in event["message"]

    # The portal retries the same report, signed anew: accepted, nothing changes.
    again = portal.report(order_id, "confirmed", **report)
    assert again.status_code == 200 and again.json() == {"applied": 0, "unchanged": 1}
    assert len(staff_api.get(f"orders/{order_id}/").json()["events"]) == len(detail["events"])

    # Later the portal reports the shipment with its tracking number.
    shipped = portal.report(order_id, "shipped", order_number=reference, tracking_number="00340434161094042557")
    assert shipped.status_code == 200, shipped.text
    detail = staff_api.get(f"orders/{order_id}/").json()
    assert detail["status"] == "shipped" and detail["tracking_number"] == "00340434161094042557"
    assert detail["lab_properties"] == PROPERTIES  # a report without properties keeps them
    assert statuses(detail)[-2:] == ["confirmed", "shipped"]


@pytest.mark.parametrize("portal_order", ["audia_easy_order_portal"], indirect=True)
def test_a_refused_callback_changes_nothing(portal_order, staff_api, live_server):
    _backend, definition, detail, portal = portal_order
    order_id = detail["id"]
    body = json.dumps({"order_id": order_id, "status": "confirmed", "order_number": "AUP-1"}).encode()

    wrong_key = portal.post(body, signing.sign("nicht-das-geheimnis", body))
    assert wrong_key.status_code == 400 and wrong_key.json()["code"] == "invalid_signature"
    no_number = portal.report(order_id, "confirmed")
    assert no_number.status_code == 400 and no_number.json()["code"] == "invalid_payload"
    unknown = portal.report(str(uuid.uuid4()), "confirmed", order_number="AUP-1")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_order"

    accepted_signature = signing.sign(SECRET, body)
    assert portal.post(body, accepted_signature).status_code == 200
    replayed = portal.post(body, accepted_signature)
    assert replayed.status_code == 400 and replayed.json()["code"] == "replayed"
    detail = staff_api.get(f"orders/{order_id}/").json()
    assert detail["status"] == "confirmed" and detail["external_reference"] == "AUP-1"
    assert statuses(detail).count("confirmed") == 1


@pytest.mark.parametrize("portal_order", list(PORTALS), indirect=True)
def test_rejected_in_the_portal_then_resent_waits_for_the_portal_again(portal_order, staff_api):
    _backend, _definition, detail, portal = portal_order
    order_id = detail["id"]
    answer = portal.report(order_id, "rejected", message="Abdruck unvollständig, bitte neu abformen.")
    assert answer.status_code == 200, answer.text

    detail = staff_api.get(f"orders/{order_id}/").json()
    assert detail["status"] == "rejected_by_lab" and detail["status_label"] == "vom Labor abgelehnt"
    assert detail["external_status"] == "rejected"
    event = detail["events"][-1]
    assert (event["to_status"], event["source"]) == ("rejected_by_lab", "lab")
    assert "Abdruck unvollständig, bitte neu abformen." in event["message"]

    resend(staff_api, order_id)
    detail = wait_for_order(staff_api, order_id, "awaiting_portal")
    assert statuses(detail)[-4:] == ["rejected_by_lab", "queued", "sending", "awaiting_portal"]
    assert outcomes(detail) == ["awaiting_portal", "awaiting_portal"]
    assert detail["failure_reason"] == ""

    # The portal may now confirm the re-submitted order.
    confirmed = portal.report(order_id, "confirmed", order_number="AUP-2", properties=PROPERTIES)
    assert confirmed.status_code == 200, confirmed.text
    assert staff_api.get(f"orders/{order_id}/").json()["status"] == "confirmed"
