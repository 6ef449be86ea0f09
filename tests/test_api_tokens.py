"""API tokens expire after ``OTOORDER_TOKEN_TTL``, are revoked by ``DELETE
/api/v1/auth/token/``, and a new login issues a new token (the previous one stops working)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def login(username="alice"):
    response = APIClient().post(TOKEN_URL, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_login_answers_the_token_and_its_end(alice, settings):
    settings.OTOORDER_TOKEN_TTL = 10 * 60 * 60
    before = timezone.now()
    body = login()
    token = Token.objects.get(user=alice)
    assert body["token"] == token.key
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(hours=10) <= expires <= timezone.now() + timedelta(hours=10)


def test_default_lifetime_is_one_shift(settings):
    from otoorder import settings as project_settings

    assert project_settings.OTOORDER_TOKEN_TTL == 10 * 60 * 60


def test_a_token_older_than_its_lifetime_is_refused(alice, settings):
    settings.OTOORDER_TOKEN_TTL = 60 * 60
    key = login()["token"]
    client = with_token(key)
    assert client.get("/api/v1/branches/").status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(minutes=59))
    assert client.get("/api/v1/branches/").status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(minutes=61))
    response = client.get("/api/v1/branches/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "token_expired",
        "detail": "Das Token ist abgelaufen. Bitte mit POST /api/v1/auth/token/ ein neues holen.",
    }
    assert response["WWW-Authenticate"] == "Token"


def test_a_new_login_issues_a_new_token_and_ends_the_old_one(alice):
    first = login()["token"]
    second = login()["token"]
    assert first != second
    assert with_token(first).get("/api/v1/branches/").status_code == 401
    assert with_token(second).get("/api/v1/branches/").status_code == 200


def test_the_owner_revokes_the_token(alice, bob):
    key = login()["token"]
    other = login(bob.username)["token"]
    client = with_token(key)
    response = client.delete(TOKEN_URL)
    assert response.status_code == 204
    assert client.get("/api/v1/branches/").status_code == 401
    assert not Token.objects.filter(user=alice).exists()
    assert with_token(other).get("/api/v1/branches/").status_code == 200  # only the caller's token


def test_revoking_needs_authentication(db):
    response = APIClient().delete(TOKEN_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert with_token("nicht-gueltig").delete(TOKEN_URL).status_code == 401


def test_an_expired_token_does_not_hinder_a_new_login(alice, settings):
    settings.OTOORDER_TOKEN_TTL = 60
    key = login()["token"]
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(hours=1))
    response = with_token(key).post(TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert with_token(response.json()["token"]).get("/api/v1/branches/").status_code == 200


def test_schema_documents_issue_revocation_and_lock_out():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = schema["paths"]["/api/v1/auth/token/"]
    assert set(operations["post"]["responses"]) == {"200", "400", "413", "415", "429"}  # 413/415: the body parsers
    assert operations["post"].get("security", []) in ([], [{}])  # no credentials needed to log in
    assert {"tokenAuth": []} in operations["delete"]["security"]
    assert set(operations["delete"]["responses"]) == {"204", "401", "403"}  # 403: a session without its CSRF token
    issued = schema["components"]["schemas"]["IssuedToken"]["properties"]
    assert set(issued) == {"token", "expires_at"}
