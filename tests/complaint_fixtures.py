"""A delivered order to complain about (shared by the complaint tests)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from otoorder.orders import lifecycle
from tests.lifecycle_fixtures import dreve_template, dreve_txn, ordered_order  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def delivered(txn, supplier, user, *, days_ago=10):
    order = ordered_order(txn, supplier, user)
    return lifecycle.receive(
        order, user=user, without_serial=("right", "left"), received_at=timezone.now() - timedelta(days=days_ago)
    )


@pytest.fixture
def delivered_order(dreve_txn, dreve_supplier, alice):
    return delivered(dreve_txn, dreve_supplier, alice)
