"""The notification centre's pages and the API: own notifications only, newest first, mark as
read, the bell's count (one query, 304 when unchanged), preferences, German and English."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from otoorder.notifications.choices import Kind
from otoorder.notifications.models import Notification, Preference
from otoorder.orders import services
from tests.factories import bte_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(transaction_obj, dreve, dreve_supplier, alice):
    return services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
    )


def notify(user, order, kind=Kind.CONFIRMED, **params):
    return Notification.objects.create(recipient=user, order=order, kind=kind, params={"lab": "Dreve", **params})


@pytest.fixture
def alices(alice, bob, order):
    """Three of Alice's notifications (oldest first) and one of Bob's."""
    own = [
        notify(alice, order, Kind.CONFIRMED),
        notify(alice, order, Kind.SHIPPED, tracking="1Z999", carrier="ups"),
        notify(alice, order, Kind.LAB_QUESTION, text="Welche Farbe?"),
    ]
    return own, notify(bob, order, Kind.OVERDUE, due="2026-11-27")


# --- Pages ----------------------------------------------------------------------------------


def test_list_shows_own_newest_first_with_unread_highlighted(client, alice, alices):
    own, _bobs = alices
    Notification.objects.filter(pk=own[0].pk).update(read_at="2026-12-01T08:00:00Z")
    client.force_login(alice)
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    items = list(response.context["page"].object_list)
    assert items == [own[2], own[1], own[0]]
    html = response.content.decode()
    assert html.count('data-testid="notification"') == 3
    assert html.count("notification-unread") == 2
    assert "„Welche Farbe?“" in html
    assert "https://www.ups.com/track" in html and "1Z999" in html  # the tracking link
    assert 'id="notification-count" data-count="2"' in html  # the bell in the navigation
    assert "überfällig" not in html  # Bob's


def test_list_filters_unread_and_paginates(client, alice, order):
    for _ in range(30):
        notify(alice, order)
    Notification.objects.filter(pk__in=Notification.objects.values("pk")[:5]).update(read_at="2026-12-01T08:00:00Z")
    client.force_login(alice)
    page1 = client.get(reverse("notifications:list"))
    assert len(page1.context["page"].object_list) == 25
    page2 = client.get(reverse("notifications:list") + "?seite=2")
    assert len(page2.context["page"].object_list) == 5
    unread = client.get(reverse("notifications:list") + "?ungelesen=1")
    assert unread.context["page"].paginator.count == 25
    assert client.get(reverse("notifications:list") + "?seite=abc").status_code == 200


def test_list_in_english(client, alice, alices):
    client.force_login(alice)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Notifications" in html and "Mark all as read" in html
    assert "Question from the lab Dreve about order" in html and "“Welche Farbe?”" in html


def test_open_marks_read_and_goes_to_the_order(client, alice, alices, order):
    own, bobs = alices
    client.force_login(alice)
    response = client.get(reverse("notifications:open", args=[own[1].pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order_detail", args=[order.pk])
    own[1].refresh_from_db()
    assert own[1].read_at is not None
    # Bob's notification is not Alice's to open: 404, and it stays unread.
    assert client.get(reverse("notifications:open", args=[bobs.pk])).status_code == 404
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_mark_one_and_all_read(client, alice, alices):
    own, bobs = alices
    client.force_login(alice)
    response = client.post(reverse("notifications:read", args=[own[0].pk]), {"next": "/benachrichtigungen/?seite=1"})
    assert response.status_code == 302 and response["Location"] == "/benachrichtigungen/?seite=1"
    assert Notification.objects.get(pk=own[0].pk).read_at is not None
    # Not to another host.
    response = client.post(reverse("notifications:read", args=[own[1].pk]), {"next": "https://evil.test/"})
    assert response["Location"] == reverse("notifications:list")
    assert client.post(reverse("notifications:read", args=[bobs.pk])).status_code == 404
    assert client.get(reverse("notifications:read", args=[own[2].pk])).status_code == 405
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "1 Benachrichtigung als gelesen markiert." in response.content.decode()
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 0
    assert Notification.objects.get(pk=bobs.pk).read_at is None


def test_huge_ids_are_404(client, alice):
    client.force_login(alice)
    assert client.get(f"/benachrichtigungen/{'9' * 30}/oeffnen/").status_code == 404
    api = APIClient()
    api.force_authenticate(alice)
    assert api.post(f"/api/v1/notifications/{'9' * 30}/read/").status_code == 404


def test_bell_costs_one_query_and_answers_204_while_unchanged(client, alice, alices, django_assert_max_num_queries):
    client.force_login(alice)
    client.get(reverse("notifications:list"))  # the session is loaded once
    with django_assert_max_num_queries(3):  # session, user, the count
        response = client.get(reverse("notifications:bell"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="3"' in html and '>3<span class="visually-hidden"> ungelesene Benachrichtigungen' in html
    assert 'hx-trigger="every 30s"' in html and "?n=3" in html
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    with django_assert_max_num_queries(3):
        again = client.get(reverse("notifications:bell") + "?n=3")
    assert again.status_code == 204 and again.content == b""
    Notification.objects.filter(recipient=alice).mark_read()
    changed = client.get(reverse("notifications:bell") + "?n=3")
    assert changed.status_code == 200 and 'data-count="0"' in changed.content.decode()
    assert client.get(reverse("notifications:bell") + "?n=" + "9" * 5000).status_code == 200


def test_bell_shows_99_plus(client, alice, order):
    Notification.objects.bulk_create([Notification(recipient=alice, order=order, kind=Kind.CONFIRMED) for _ in range(120)])
    client.force_login(alice)
    assert ">99+<" in client.get(reverse("notifications:bell")).content.decode()


def test_pages_need_a_login(client, alices):
    for name in ("notifications:list", "notifications:bell", "notifications:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_preferences_default_save_and_refuse(client, alice):
    client.force_login(alice)
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    form = page.context["form"]
    assert set(form.initial["digest_kinds"]) == {"lab_question", "rejected", "send_failed", "cancel_refused", "lab_cancelled", "overdue"}
    response = client.post(reverse("notifications:preferences"), {"digest_kinds": ["overdue", "shipped"], "language": "en"})
    assert response.status_code == 302
    preference = Preference.objects.get(user=alice)
    assert preference.digest_kinds == ["shipped", "overdue"] and preference.language == "en"
    response = client.post(reverse("notifications:preferences"), {"digest_kinds": ["erfunden"], "language": "fr"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "digest_kinds" in errors and "language" in errors
    assert "ist keine gültige Auswahl" in response.content.decode()
    response = client.post(reverse("notifications:preferences"), {"language": "de"})
    assert response.status_code == 302 and Preference.objects.get(user=alice).digest_kinds == []


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_api_lists_own_newest_first_with_filter(api, alices, order):
    own, _bobs = alices
    Notification.objects.filter(pk=own[0].pk).update(read_at="2026-12-01T08:00:00Z")
    body = api.get("/api/v1/notifications/").json()
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [own[2].pk, own[1].pk, own[0].pk]
    first = body["results"][0]
    assert first["kind"] == "lab_question" and first["read"] is False
    assert first["order"] == {"id": str(order.pk), "number": order.number}
    assert first["message"].startswith("Rückfrage des Labors Dreve zu Bestellung")
    assert [i["id"] for i in api.get("/api/v1/notifications/?unread=true").json()["results"]] == [own[2].pk, own[1].pk]
    assert [i["id"] for i in api.get("/api/v1/notifications/?unread=false").json()["results"]] == [own[0].pk]
    assert api.get("/api/v1/notifications/?limit=1&offset=1").json()["results"][0]["id"] == own[1].pk
    refused = api.get("/api/v1/notifications/?unread=vielleicht")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid" and "unread" in refused.json()["errors"]
    assert api.get("/api/v1/notifications/?limit=0").status_code == 400


def test_api_message_in_the_requests_language(api, alices):
    body = api.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["results"][0]["message"].startswith("Question from the lab Dreve about order")
    assert body["results"][1]["message"].endswith("Tracking number: 1Z999")


def test_api_mark_read_and_read_all(api, alice, alices):
    own, bobs = alices
    response = api.post(f"/api/v1/notifications/{own[0].pk}/read/")
    assert response.status_code == 200 and response.json()["read"] is True and response.json()["read_at"]
    assert api.post(f"/api/v1/notifications/{bobs.pk}/read/").status_code == 404
    assert api.get(f"/api/v1/notifications/{own[0].pk}/").status_code == 404  # no detail route
    response = api.post("/api/v1/notifications/read-all/")
    assert response.status_code == 200 and response.json() == {"updated": 2}
    assert Notification.objects.get(pk=bobs.pk).read_at is None
    assert api.post("/api/v1/notifications/read-all/").json() == {"updated": 0}


def test_api_needs_authentication(alices):
    assert APIClient().get("/api/v1/notifications/").status_code == 401
    assert APIClient().post("/api/v1/notifications/read-all/").status_code == 401


def test_api_is_in_the_schema(api):
    schema = api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert "/api/v1/notifications/" in paths
    assert "/api/v1/notifications/{id}/read/" in paths
    assert "/api/v1/notifications/read-all/" in paths
    parameters = {p["name"] for p in paths["/api/v1/notifications/"]["get"]["parameters"]}
    assert {"unread", "limit", "offset"} <= parameters
    assert "404" in paths["/api/v1/notifications/{id}/read/"]["post"]["responses"]


def test_a_colleagues_notification_is_not_mine(client, carol, alices):
    """Carol works in Alice's branch and sees her orders, but not her notifications."""
    own, _bobs = alices
    client.force_login(carol)
    assert client.get(reverse("notifications:open", args=[own[0].pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[own[0].pk])).status_code == 404
    assert client.get(reverse("notifications:list")).context["page"].paginator.count == 0
    api = APIClient()
    api.force_authenticate(carol)
    assert api.post(f"/api/v1/notifications/{own[0].pk}/read/").status_code == 404
    assert api.post("/api/v1/notifications/read-all/").json() == {"updated": 0}
    assert Notification.objects.filter(recipient=own[0].recipient, read_at__isnull=True).count() == 3
