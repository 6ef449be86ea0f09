"""The protocol's guard rails: the registry refuses a broken backend, a forgotten hook is a
programming error naming the class (never a "falsch eingerichtet" for staff), and a field a
backend cannot carry is refused loudly."""

from dataclasses import replace

import pytest
from django.core.exceptions import ImproperlyConfigured

from otoorder.backends import registry
from otoorder.backends.base import BaseBackend, overrides
from otoorder.backends.exceptions import OrderRejected
from otoorder.backends.result import DispatchResult, ResultStatus
from otoorder.orders import dispatch, services
from otoorder.orders.choices import OrderStatus
from tests import factories as f
from tests.documents import RIGHT_BTE, order_document
from tests.factories import bte_item


class Complete(BaseBackend):
    key = "test_complete"
    label = "Vollständige Testschnittstelle"

    def build_payload(self, document):
        return document.order_id

    def transmit(self, payload, document):
        return payload

    def parse_result(self, response, payload, document):
        return DispatchResult(ResultStatus.ORDERED)

    def check_connection(self):
        return "ok"


class Forgetful(Complete):
    """Forgot to implement ``parse_result`` (inherits the base's)."""

    key = "test_forgetful"
    label = "Vergessliche Testschnittstelle"
    parse_result = BaseBackend.parse_result


class NoKey(Complete):
    key = ""


class NoLabel(Complete):
    key = "test_no_label"
    label = ""


class PollsWithoutHook(Complete):
    key = "test_polls"
    label = "Abfrage ohne Methode"
    supports_status_poll = True


class NoEngraving(Complete):
    key = "test_no_engraving"
    label = "Ohne Gravur"
    refused_item_fields = frozenset({"engraving"})


@pytest.fixture
def register(monkeypatch):
    def register(backend_class, key=None, label=None):
        key = key if key is not None else backend_class.key
        monkeypatch.setitem(
            registry.BACKENDS, key, (f"{__name__}.{backend_class.__name__}", label if label is not None else backend_class.label)
        )
        registry.get_backend_class.cache_clear()
        return key

    yield register
    registry.get_backend_class.cache_clear()


def test_a_complete_backend_is_accepted(register):
    assert registry.get_backend_class(register(Complete)) is Complete


@pytest.mark.parametrize(
    ("backend_class", "key", "label", "complaint"),
    [
        (NoKey, "test_no_key", "Ohne Schlüssel", "must set both `key` and `label`"),
        (NoLabel, "test_no_label", "Ohne Namen", "must set both `key` and `label`"),
        (Complete, "test_other_key", None, "Complete.key is 'test_complete'"),
        (Complete, None, "Anderer Name", "differs from the registry"),
        (PollsWithoutHook, None, None, "declares supports_status_poll but does not implement poll_status()"),
    ],
    ids=["no key", "no label", "wrong key", "wrong label", "flag without hook"],
)
def test_the_registry_refuses_a_broken_backend(register, backend_class, key, label, complaint):
    key = register(backend_class, key=key, label=label)
    with pytest.raises(ImproperlyConfigured, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        registry.get_backend_class(key)


def test_the_registry_refuses_what_is_no_backend(register, monkeypatch):
    monkeypatch.setitem(registry.BACKENDS, "test_not_a_backend", ("tests.documents.order_document", "Keine"))
    registry.get_backend_class.cache_clear()
    with pytest.raises(ImproperlyConfigured, match="not a subclass of BaseBackend"):
        registry.get_backend_class("test_not_a_backend")


def test_a_hook_counts_as_implemented_only_when_it_is_not_the_bases():
    assert overrides(Complete, "parse_result") and not overrides(Forgetful, "parse_result")
    assert overrides(PollsWithoutHook, "transmit") and not overrides(PollsWithoutHook, "poll_status")


def test_a_forgotten_hook_raises_not_implemented_naming_the_class():
    with pytest.raises(NotImplementedError, match=r"Forgetful\.parse_result\(\)"):
        Forgetful({}).send(order_document())
    with pytest.raises(NotImplementedError, match=r"Forgetful\.poll_status\(\).*supports_status_poll"):
        Forgetful({}).poll_status("X-1")


def test_a_refused_field_is_refused_loudly_and_only_when_set():
    backend = NoEngraving({})
    with pytest.raises(OrderRejected, match="engraving") as caught:
        backend.send(order_document(items=(RIGHT_BTE,)))
    assert "Ohne Gravur" in caught.value.message and "rechts" in caught.value.message
    plain = order_document(items=(replace(RIGHT_BTE, engraving=""),))
    assert backend.send(plain).status == ResultStatus.ORDERED


@pytest.mark.django_db
def test_dispatch_records_a_forgotten_hook_as_a_programming_error(
    register, chain, dreve, dreve_supplier, transaction_obj, alice, caplog
):
    key = register(Forgetful)
    f.InterfaceDefinitionFactory(chain=chain, backend=key, companies=[dreve], supplier=dreve_supplier)
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, items=[bte_item("right")], user=alice)

    assert dispatch.run(order.dispatch.pk) == OrderStatus.FAILED

    order.refresh_from_db()
    attempt = order.attempts.get()
    assert "Programmfehler" in order.failure_reason and "eingerichtet" not in order.failure_reason
    assert attempt.permanent and "Programmfehler" in attempt.error
    assert "NotImplementedError" in attempt.response and "Forgetful.parse_result()" in attempt.response
    assert any("programming error in backend" in record.getMessage() for record in caplog.records)
