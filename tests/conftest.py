"""Shared fixtures: one chain with named people (after healthchecks' test base).

* alice – staff of "Filiale Mitte"
* bob – staff of "Filiale Nord" (must never see Mitte's customers)
* carol – branch admin of "Filiale Mitte"
* dave – chain admin of the chain
"""

import os

import pytest

from branches.models import Role
from tests import factories as f
from tests.browser import browser, page  # noqa: F401 - fixtures for every test module
from tests.labs.http_lab import http_lab  # noqa: F401 - fixture for every test module
from tests.s3 import s3_server, s3_storage  # noqa: F401 - the real S3 store (tests/s3.py)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Passwords are not the subject of the suite: the production hasher (PBKDF2 with a
    million rounds) costs about 0.2 s per user created and per login, most of the suite's time.
    Tests of passwords themselves set their own hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts and ends in the default language: a request with
    ``Accept-Language: en`` leaves English active in the test's thread otherwise."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def chain(db):
    return f.ChainFactory(name="Hörwelt")


@pytest.fixture
def mitte(chain):
    return f.BranchFactory(chain=chain, name="Filiale Mitte", email="mitte@hoerwelt.test")


@pytest.fixture
def nord(chain):
    return f.BranchFactory(chain=chain, name="Filiale Nord", email="nord@hoerwelt.test")


def _member(username, role, chain, branch=None):
    user = f.UserFactory(username=username)
    f.MembershipFactory(user=user, chain=chain, branch=branch, role=role)
    return user


@pytest.fixture
def alice(mitte):
    return _member("alice", Role.STAFF, mitte.chain, mitte)


@pytest.fixture
def bob(nord):
    return _member("bob", Role.STAFF, nord.chain, nord)


@pytest.fixture
def carol(mitte):
    return _member("carol", Role.BRANCH_ADMIN, mitte.chain, mitte)


@pytest.fixture
def dave(chain):
    return _member("dave", Role.CHAIN_ADMIN, chain)


@pytest.fixture
def dreve(db):
    return f.CompanyFactory(name="Dreve")


@pytest.fixture
def dreve_supplier(dreve, mitte):
    supplier = f.SupplierFactory(company=dreve, order_email="bestellung@dreve.test")
    f.SupplierAccountFactory(branch=mitte, supplier=supplier, account_number="K-4711")
    return supplier


@pytest.fixture
def template(db):
    return f.TemplateFactory(name="Otoplastik")


@pytest.fixture
def customer(mitte):
    return f.CustomerFactory(branch=mitte, first_name="Erika", last_name="Mustermann")


@pytest.fixture
def transaction_obj(customer, template, alice):
    return f.TransactionFactory(customer=customer, template=template, started_by=alice)
