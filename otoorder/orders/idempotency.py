"""Placing an order at most once per key (the order form's one-time token, the API's
``Idempotency-Key``).

The key is inserted in the same database transaction as the order, before it: a second
submission with the same key waits on the unique constraint until the first commits and then
finds its order; there is no check-then-insert window. A submission that fails (an invalid
form, a refused order) rolls the key back with everything else, so the key can be used again.
"""

import hashlib
import json

from django.db import IntegrityError, transaction

from .models import OrderSubmission

#: Longest key accepted (the column's length).
KEY_MAX = OrderSubmission._meta.get_field("key").max_length


class KeyReused(Exception):
    """The key was used before with another body."""

    def __init__(self, order):
        super().__init__(order.number)
        self.order = order


def body_hash(body):
    """SHA-256 of a request body as canonical JSON (key order and spacing do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def submitted(*, scope, branch, key):
    """The order placed before under this key, or None."""
    submission = (
        OrderSubmission.objects.filter(scope=scope, branch=branch, key=key[:KEY_MAX], order__isnull=False)
        .select_related("order")
        .first()
    )
    return submission.order if submission is not None else None


def _existing(scope, branch, key, digest, check_body):
    submission = OrderSubmission.objects.select_related("order").get(scope=scope, branch=branch, key=key)
    if check_body and submission.body_sha256 != digest:
        raise KeyReused(submission.order)
    return submission.order


def place_once(*, scope, branch, key, digest, place, check_body=True):
    """``(order, created)``: ``place()``'s order the first time, the same order again for the
    same key. Raises ``KeyReused`` when ``check_body`` and the body differs."""
    found = OrderSubmission.objects.filter(scope=scope, branch=branch, key=key, order__isnull=False).exists()
    if found:
        return _existing(scope, branch, key, digest, check_body), False
    try:
        with transaction.atomic():
            submission = OrderSubmission.objects.create(scope=scope, branch=branch, key=key, body_sha256=digest)
            order = place()
            submission.order = order
            submission.save(update_fields=["order"])
    except IntegrityError:
        # Another submission with this key committed while this one waited on the constraint.
        if not OrderSubmission.objects.filter(scope=scope, branch=branch, key=key).exists():
            raise
        return _existing(scope, branch, key, digest, check_body), False
    return order, True
