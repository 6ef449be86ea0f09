"""Login throttling (django-axes): after 5 wrong passwords for one user name, the HTML login
and ``POST /api/v1/auth/token/`` refuse that name, the right password too, until the
cool-off passed; the lock-out is logged without the password."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
WRONG = "Falsch-und-geheim-4711"


@pytest.fixture(autouse=True)
def cool_off(settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def api_login(password, username="alice"):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def html_login(client, password, username="alice"):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_api_locks_the_user_name_after_five_wrong_passwords(alice, bob):
    for _ in range(4):
        assert api_login(WRONG).json()["code"] == "invalid_credentials"
    fifth = api_login(WRONG)
    assert fifth.status_code == 429
    assert fifth.json()["code"] == "locked_out"

    locked = api_login(PASSWORD)  # the right password is refused during the lock-out
    assert locked.status_code == 429
    body = locked.json()
    assert body == {
        "code": "locked_out",
        "detail": "Zu viele falsche Anmeldeversuche für diesen Benutzernamen. Die Anmeldung ist für 15 Minuten gesperrt.",
    }
    assert 890 <= int(locked["Retry-After"]) <= 900
    assert api_login(PASSWORD, username=bob.username).status_code == 200  # another name is not locked


def test_api_login_works_again_after_the_cool_off(alice):
    for _ in range(5):
        api_login(WRONG)
    assert api_login(PASSWORD).status_code == 429
    # The cool-off passed: the failures lie 16 minutes back.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    response = api_login(PASSWORD)
    assert response.status_code == 200, response.content
    assert response.json()["token"]


def test_tries_during_the_lock_out_do_not_extend_it(alice):
    for _ in range(5):
        api_login(WRONG)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=10))
    response = api_login(WRONG)
    assert response.status_code == 429
    assert 290 <= int(response["Retry-After"]) <= 300
    assert response.json()["detail"].endswith("für 5 Minuten gesperrt.")


def test_html_login_shows_the_german_lock_out_message(client, alice):
    for _ in range(4):
        response = html_login(client, WRONG)
        assert response.status_code == 200 and "id=\"login-locked-out\"" not in response.content.decode()
    response = html_login(client, WRONG)
    assert response.status_code == 429
    response = html_login(client, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Zu viele falsche Anmeldeversuche für diesen Benutzernamen" in page
    assert 'id="login-locked-out"' in page and 'name="password"' in page
    assert "_auth_user_id" not in client.session
    assert int(response["Retry-After"]) > 0


def test_html_lock_out_message_in_english(alice):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(6):
        response = html_login(client, WRONG)
    assert response.status_code == 429
    assert "Too many failed logins for this user name" in response.content.decode()


def test_html_and_api_share_the_count(client, alice):
    for _ in range(3):
        html_login(client, WRONG)
    api_login(WRONG)
    assert api_login(WRONG).status_code == 429
    assert html_login(client, PASSWORD).status_code == 429


def test_the_lock_out_is_logged_without_password_or_user_name(caplog, alice):
    caplog.set_level(logging.DEBUG)
    for _ in range(5):
        api_login(WRONG)
    api_login(PASSWORD)
    records = [r for r in caplog.records if r.name == "otoorder.login"]
    assert [r.getMessage() for r in records] == [
        f"login locked out after repeated failures: user id {alice.pk}, path {TOKEN_URL}",
        f"login locked out after repeated failures: user id {alice.pk}, path {TOKEN_URL}",
    ]
    assert records[0].levelno == logging.WARNING
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert "AXES: Locking out" in everything  # axes' own record is there, masked
    assert WRONG not in everything and PASSWORD not in everything and "alice" not in everything
    assert all(WRONG not in a.post_data for a in AccessAttempt.objects.all())


def test_unknown_user_names_are_locked_and_logged_as_unknown(caplog):
    caplog.set_level(logging.WARNING, logger="otoorder.login")
    for _ in range(5):
        api_login(WRONG, username="niemand")
    assert api_login(WRONG, username="niemand").status_code == 429
    records = [r.getMessage() for r in caplog.records if r.name == "otoorder.login"]
    assert records and all("unknown user name" in message for message in records)
