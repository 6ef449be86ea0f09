"""The portal hand-off in the staff UI: an order through a portal definition ends
``awaiting_portal``, "Im Portal fortsetzen" redirects to the signed portal address, and the
portal's report shows up on the order page. The egger portal's legacy notice in branch
administration."""

import json
import time
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from otoorder.backends.audia_easy_order_portal import AudiaEasyOrderPortalBackend
from otoorder.backends.portal import verify_handoff
from otoorder.backends.signing import SignatureError, sign
from otoorder.orders import dispatch, services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from tests import factories as f
from tests.factories import bte_item, ric_item
from tests.labs.http_lab import Reply

pytestmark = pytest.mark.django_db

SECRET = f.PORTAL_SECRET
PORTAL = f.PORTAL_URL


@pytest.fixture
def portal_definition(chain, dreve, dreve_supplier):
    return f.portal_definition(chain, dreve, dreve_supplier)


@pytest.fixture
def placed(portal_definition, transaction_obj, dreve, alice):
    """An order placed for Dreve, still queued."""
    return services.place_order(
        transaction_obj=transaction_obj, company=dreve, items=[bte_item("right"), ric_item("left")], user=alice
    )


@pytest.fixture
def awaiting(placed):
    """The order after the worker sent it: waiting for the portal."""
    assert dispatch.run(placed.dispatch.pk) == OrderStatus.AWAITING_PORTAL
    placed.refresh_from_db()
    return placed


def logged_in(client, user):
    client.force_login(user)
    return client


def handoff_url(order):
    return reverse("orders:portal_handoff", args=[order.pk])


# --- send ----------------------------------------------------------------------------------


def test_order_through_a_portal_definition_awaits_the_portal(awaiting, portal_definition):
    assert awaiting.interface_definition == portal_definition
    assert awaiting.status == OrderStatus.AWAITING_PORTAL and awaiting.is_in_flight
    attempt = awaiting.attempts.get()
    assert attempt.outcome == "awaiting_portal"
    assert attempt.request_summary["portal"] == PORTAL and attempt.request_summary["sides"] == ["right", "left"]
    assert awaiting.customer.last_name not in str(attempt.request_summary)
    event = awaiting.events.last()
    assert (event.data["code"], event.data["params"]["variant"]) == ("sent", "awaiting_portal")
    assert "Im Portal fortsetzen" in event.data["backend_message"]  # the backend's summary, kept aside


# --- the hand-off view ---------------------------------------------------------------------


def test_handoff_redirects_to_the_signed_portal_address(client, alice, awaiting, portal_definition):
    response = logged_in(client, alice).post(handoff_url(awaiting))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == PORTAL
    params = verify_handoff(SECRET, location.query)
    assert params["order_id"] == str(awaiting.pk)
    assert params["order_number"] == awaiting.number
    assert params["account"] == "K-4711" and params["branch"] == awaiting.branch.name
    assert params["sides"] == "right,left" and params["left_product_family"] == "ric"
    assert params["customer_reference"].endswith(str(awaiting.customer.customer_number))
    assert params["return_url"] == f"http://testserver{reverse('orders:order_detail', args=[awaiting.pk])}"
    assert params["callback_url"] == f"http://testserver/api/v1/callbacks/{portal_definition.pk}/"
    assert "Mustermann" not in response["Location"]


def test_each_press_builds_a_link_valid_for_fifteen_minutes(client, alice, awaiting):
    before = time.time()
    params = verify_handoff(SECRET, urlsplit(logged_in(client, alice).post(handoff_url(awaiting))["Location"]).query)
    assert before + 900 <= int(params["expires"]) + 1 <= time.time() + 901
    with pytest.raises(SignatureError, match="abgelaufen"):
        verify_handoff(SECRET, urlsplit(client.post(handoff_url(awaiting))["Location"]).query, now=time.time() + 901)


def test_handoff_is_post_only(client, alice, awaiting):
    assert logged_in(client, alice).get(handoff_url(awaiting)).status_code == 405


def test_staff_of_another_branch_get_404(client, bob, awaiting):
    assert logged_in(client, bob).post(handoff_url(awaiting)).status_code == 404


def test_anonymous_users_are_sent_to_the_login(client, awaiting):
    response = client.post(handoff_url(awaiting))
    assert response.status_code == 302 and "login" in response["Location"]


def test_only_orders_awaiting_the_portal_are_handed_off(client, alice, placed):
    response = logged_in(client, alice).post(handoff_url(placed), follow=True)
    assert response.redirect_chain == [(reverse("orders:order_detail", args=[placed.pk]), 302)]
    assert "wartet nicht auf den Abschluss im Portal" in response.content.decode()


def test_handoff_without_secret_explains_instead_of_redirecting(client, alice, awaiting, portal_definition):
    portal_definition.secrets = {}
    portal_definition.save()
    response = logged_in(client, alice).post(handoff_url(awaiting), follow=True)
    assert response.redirect_chain == [(reverse("orders:order_detail", args=[awaiting.pk]), 302)]
    assert "Gemeinsames Geheimnis" in response.content.decode()


# --- the order page ------------------------------------------------------------------------


def test_order_page_offers_the_handoff_and_keeps_refreshing(client, alice, awaiting):
    page = logged_in(client, alice).get(reverse("orders:order_detail", args=[awaiting.pk])).content.decode()
    assert 'id="portal-handoff"' in page and "Im Portal fortsetzen" in page
    assert handoff_url(awaiting) in page
    assert 'data-in-flight="true"' in page and "every 2000ms" in page


def test_no_handoff_button_for_other_orders(client, alice, placed):
    page = logged_in(client, alice).get(reverse("orders:order_detail", args=[placed.pk])).content.decode()
    assert 'id="portal-handoff"' not in page


def test_portal_report_shows_confirmation_number_and_properties(client, alice, awaiting):
    body = (
        '{"order_id": "%s", "order_number": "AEO-778899", "status": "confirmed", '
        '"properties": {"right": {"form": "Concha", "material": "Acryl hart"}, "left": {"form": "Gehörgang"}}}'
    ) % awaiting.pk
    [entry] = AudiaEasyOrderPortalBackend.parse_callback(body.encode())
    assert apply_status_update(awaiting, entry["update"])
    awaiting.refresh_from_db()
    assert awaiting.status == OrderStatus.CONFIRMED and awaiting.external_reference == "AEO-778899"
    # The page's status check (live status) brings the lab's report without a reload.
    detail_url = reverse("orders:order_detail", args=[awaiting.pk])
    panel = logged_in(client, alice).get(detail_url, {"live": "seen-before"}).content.decode()
    assert "vom Labor bestätigt" in panel and "AEO-778899" in panel
    assert 'id="lab-properties"' in panel and "Concha" in panel and "Gehörgang" in panel
    assert 'data-in-flight="false"' in panel and 'id="portal-handoff"' not in panel


def test_tracking_number_is_shown(client, alice, awaiting):
    for status, extra in (("confirmed", ""), ("shipped", ', "tracking_number": "00340434161094042557"')):
        body = f'{{"order_id": "{awaiting.pk}", "order_number": "AEO-1", "status": "{status}"{extra}}}'
        apply_status_update(awaiting, AudiaEasyOrderPortalBackend.parse_callback(body)[0]["update"])
    awaiting.refresh_from_db()
    assert awaiting.status == OrderStatus.SHIPPED
    page = logged_in(client, alice).get(reverse("orders:order_detail", args=[awaiting.pk])).content.decode()
    assert 'id="tracking-number"' in page and "00340434161094042557" in page


# --- branch administration -----------------------------------------------------------------


def test_egger_portal_shows_its_legacy_notice(client, dave, chain):
    client = logged_in(client, dave)
    options = client.get(reverse("branches:definition_options"), {"backend": "egger_bestellsystem"}).content.decode()
    assert "Veraltete Schnittstelle" in options and "Egger ERP Bestellung" in options and "15.11.2019" in options
    assert 'name="opt_portal_url"' in options and 'name="opt_shared_secret"' in options
    definition = f.InterfaceDefinitionFactory(
        chain=chain,
        name="egger alt",
        backend="egger_bestellsystem",
        options={"portal_url": "https://bestellsystem.egger.example/"},
        secrets={"shared_secret": SECRET},
    )
    edit = client.get(reverse("branches:definition_edit", args=[definition.pk])).content.decode()
    assert "Veraltete Schnittstelle" in edit and "15.11.2019" in edit
    audia = client.get(reverse("branches:definition_options"), {"backend": "audia_easy_order_portal"}).content.decode()
    assert "Veraltete Schnittstelle" not in audia


def test_egger_portal_definition_can_be_saved(client, dave):
    """The legacy notice warns; it does not block."""
    response = logged_in(client, dave).post(
        reverse("branches:definition_create"),
        {
            "name": "egger Portal",
            "backend": "egger_bestellsystem",
            "branch": "",
            "active_from": "",
            "is_active": "on",
            "opt_portal_url": "https://bestellsystem.egger.example/",
            "opt_shared_secret": SECRET,
        },
    )
    assert response.status_code == 302, response.context["form"].errors


def test_connection_test_of_a_portal_definition(client, dave, chain, http_lab):
    http_lab.script(Reply.text("<html>Portal</html>", content_type="text/html"), method="GET", path="/portal")
    definition = f.InterfaceDefinitionFactory(
        chain=chain,
        backend="audia_easy_order_portal",
        options={"portal_url": f"{http_lab.url}/portal"},
        secrets={"shared_secret": SECRET},
    )
    response = logged_in(client, dave).post(reverse("branches:definition_test", args=[definition.pk]), follow=True)
    assert "Das Portal ist erreichbar (HTTP 200)" in response.content.decode()


# --- the whole round trip through the callback endpoint --------------------------------------


def test_round_trip_hand_off_callback_and_return(client, alice, awaiting, portal_definition):
    """Hand-off, the portal's signed callback to the address it was given, staff come back."""
    client = logged_in(client, alice)
    params = verify_handoff(SECRET, urlsplit(client.post(handoff_url(awaiting))["Location"]).query)
    body = json.dumps(
        {
            "order_id": params["order_id"],
            "order_number": "AEO-990011",
            "status": "confirmed",
            "properties": {"right": {"form": "Concha"}, "left": {"form": "Gehörgang"}},
        }
    ).encode()
    callback = urlsplit(params["callback_url"]).path
    answer = client.generic(
        "POST", callback, body, content_type="application/json", HTTP_X_OTOORDER_SIGNATURE=sign(SECRET, body)
    )
    assert answer.status_code == 200, answer.content
    page = client.get(urlsplit(params["return_url"]).path).content.decode()
    assert "vom Labor bestätigt" in page and "AEO-990011" in page and "Gehörgang" in page
    awaiting.refresh_from_db()
    assert awaiting.lab_properties == {"right": {"form": "Concha"}, "left": {"form": "Gehörgang"}}


def test_legacy_portal_is_marked_in_the_definition_list_and_the_api(client, dave, chain):
    f.InterfaceDefinitionFactory(
        chain=chain,
        name="egger Portal alt",
        backend="egger_bestellsystem",
        options={"portal_url": "https://portal.egger.example/"},
        secrets={"shared_secret": "s"},
    )
    f.InterfaceDefinitionFactory(chain=chain, name="Standard", backend="standard")
    client.force_login(dave)
    page = client.get("/filialverwaltung/schnittstellen/").content.decode()
    assert page.count("veraltet") == 1
    api = APIClient()
    api.force_authenticate(dave)
    backends = {b["key"]: b for b in api.get("/api/v1/backends/").json()}
    assert backends["egger_bestellsystem"]["legacy"] is True
    assert backends["standard"]["legacy"] is False
