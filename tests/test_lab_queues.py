"""Queues per backend and limits per lab (issue [8] point 2), without a broker or a worker.

Routing is asked the way Celery asks it (``celery_app.amqp.router``); the limits are set
through branch administration and the API; the one-host lock files of the embedded broker are
taken as a worker would. The Redis side and real workers: ``tests/integration/test_slow_lab.py``
and ``tests/integration/test_lab_limits.py``.
"""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from branches.models import InterfaceDefinition
from otoorder import celery_app
from otoorder.backends import registry
from otoorder.orders import cancellation, dispatch, lab_messages, services, throttle
from otoorder.orders.models import Cancellation, OrderMessage
from otoorder.orders.routing import POLL_TASK, queue_name
from tests import factories as f

pytestmark = pytest.mark.django_db


def routed_queue(task_name, *args, **options):
    """The queue Celery would publish ``task_name(*args)`` to."""
    return celery_app.amqp.router.route(options, task_name, args, {})["queue"].name


@pytest.fixture
def dreve_definition(chain, dreve, dreve_supplier):
    return f.InterfaceDefinitionFactory(
        chain=chain,
        name="Dreve SmartOrder",
        backend="dreve_smartorder",
        supplier=dreve_supplier,
        options={"endpoint_url": "http://127.0.0.1:9/api/v1"},
        secrets={"api_key": "sandbox-key"},
        companies=[dreve],
    )


def place(transaction_obj, company, supplier, user):
    return services.place_order(
        transaction_obj=transaction_obj, company=company, supplier=supplier, items=[f.bte_item()], user=user
    )


# --- queues ------------------------------------------------------------------------------------


def test_a_worker_without_q_consumes_the_default_queue_and_one_per_backend():
    names = set(celery_app.amqp.queues)
    assert names == {"celery", *(f"lab.{key}" for key in registry.BACKENDS)}
    assert queue_name("dreve_smartorder") == "lab.dreve_smartorder"
    assert queue_name("a-backend-that-is-gone") == "celery"


def test_an_order_goes_to_its_backends_queue(transaction_obj, dreve, dreve_supplier, dreve_definition, alice):
    order = place(transaction_obj, dreve, dreve_supplier, alice)
    assert order.interface_definition == dreve_definition
    assert routed_queue(dispatch.DISPATCH_TASK, order.dispatch.pk) == "lab.dreve_smartorder"


def test_the_standard_process_without_a_definition_has_its_queue(transaction_obj, dreve, dreve_supplier, alice):
    order = place(transaction_obj, dreve, dreve_supplier, alice)
    assert order.interface_definition is None
    assert routed_queue(dispatch.DISPATCH_TASK, order.dispatch.pk) == "lab.standard"


def test_cancellations_answers_and_polls_go_to_the_labs_queue(
    transaction_obj, dreve, dreve_supplier, dreve_definition, alice
):
    order = place(transaction_obj, dreve, dreve_supplier, alice)
    storno = Cancellation.objects.create(order=order, sequence=1, previous_status="ordered")
    message = OrderMessage.objects.create(order=order, direction="to_lab", text="Bitte 2 mm länger.")
    assert routed_queue(cancellation.CANCEL_TASK, storno.pk) == "lab.dreve_smartorder"
    assert routed_queue(lab_messages.MESSAGE_TASK, str(message.pk)) == "lab.dreve_smartorder"
    assert routed_queue(POLL_TASK, str(dreve_definition.pk)) == "lab.dreve_smartorder"


def test_other_tasks_unknown_rows_and_a_chosen_queue_are_left_alone(django_assert_num_queries):
    assert routed_queue("otoorder.orders.tasks.sweep_dispatches") == "celery"
    assert routed_queue("otoorder.orders.tasks.poll_labs") == "celery"
    assert routed_queue(dispatch.DISPATCH_TASK, 999999) == "celery"  # a row that is gone
    with django_assert_num_queries(0):
        assert routed_queue(dispatch.DISPATCH_TASK, 1, queue="lab.egger_erp") == "lab.egger_erp"


# --- limits in branch administration ---------------------------------------------------------


def definition_form(**overrides):
    data = {"name": "Dreve per E-Mail", "backend": "standard", "branch": "", "active_from": "", "is_active": "on"}
    data.update(overrides)
    return data


def test_limits_are_set_in_branch_administration(client, dave):
    client.force_login(dave)
    page = client.get(reverse("branches:definition_create")).content.decode()
    assert "Gleichzeitige Übertragungen" in page and "Übertragungen pro Minute" in page
    response = client.post(
        reverse("branches:definition_create"), definition_form(max_parallel_sends="3", sends_per_minute="30")
    )
    assert response.status_code == 302, response.context["form"].errors
    definition = InterfaceDefinition.objects.get()
    assert (definition.max_parallel_sends, definition.sends_per_minute) == (3, 30)
    assert throttle.limits_of(definition) == throttle.Limits(lab=str(definition.pk), parallel=3, per_minute=30)
    assert throttle.limits_of(definition).interval == 2.0


def test_without_limits_a_definition_has_two_parallel_transfers_and_no_rate(client, dave):
    client.force_login(dave)
    response = client.post(reverse("branches:definition_create"), definition_form())
    assert response.status_code == 302, response.context["form"].errors
    definition = InterfaceDefinition.objects.get()
    assert (definition.max_parallel_sends, definition.sends_per_minute) == (2, None)
    assert throttle.limits_of(definition).interval == 0.0


@pytest.mark.parametrize(
    "field, value",
    [
        ("max_parallel_sends", "0"),
        ("max_parallel_sends", "21"),
        ("max_parallel_sends", "zwei"),
        ("sends_per_minute", "0"),
        ("sends_per_minute", "601"),
        ("sends_per_minute", "-5"),
    ],
)
def test_limits_out_of_bounds_are_refused_in_german(client, dave, field, value):
    client.force_login(dave)
    response = client.post(reverse("branches:definition_create"), definition_form(**{field: value}))
    assert response.status_code == 200
    (message,) = response.context["form"].errors[field]
    assert any(word in message for word in ("größer", "kleiner", "ganze Zahl")), message
    assert not InterfaceDefinition.objects.exists()


def test_the_api_sets_and_bounds_the_limits(dave, chain):
    api = APIClient()
    api.force_authenticate(dave)
    payload = {"name": "Dreve per Mail", "backend": "standard", "options": {}}
    created = api.post("/api/v1/interface-definitions/", {**payload, "max_parallel_sends": 1}, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["max_parallel_sends"], created.json()["sends_per_minute"]) == (1, None)
    url = f"/api/v1/interface-definitions/{created.json()['id']}/"

    refused = api.patch(url, {"max_parallel_sends": 50, "sends_per_minute": 0}, format="json")
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "kleiner oder gleich 20" in body and "größer oder gleich 1" in body
    assert InterfaceDefinition.objects.get().max_parallel_sends == 1

    changed = api.patch(url, {"sends_per_minute": 600}, format="json")
    assert changed.status_code == 200 and changed.json()["sends_per_minute"] == 600


def test_the_database_refuses_limits_out_of_bounds(chain):
    definition = f.InterfaceDefinitionFactory(chain=chain, backend="standard")
    for fields in ({"max_parallel_sends": 0}, {"max_parallel_sends": 21}, {"sends_per_minute": 601}):
        with pytest.raises(IntegrityError), transaction.atomic():
            InterfaceDefinition.objects.filter(pk=definition.pk).update(**fields)


# --- the lock files of the embedded broker (one host) ---------------------------------------


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_lock_files_grant_as_many_transfers_as_the_lab_allows(var_dir):
    limits = throttle.Limits(lab="lab-a", parallel=2)
    first, second = throttle._acquire_files(limits), throttle._acquire_files(limits)
    assert first.granted and second.granted
    third = throttle._acquire_files(limits)
    assert (third.granted, third.busy, third.wait) == (False, True, None)
    # Another lab is not affected.
    other = throttle._acquire_files(throttle.Limits(lab="lab-b", parallel=1))
    assert other.granted
    first.release()
    again = throttle._acquire_files(limits)
    assert again.granted
    for ticket in (second, other, again):
        ticket.release()


def test_lock_files_space_the_starts_by_the_labs_interval(var_dir):
    limits = throttle.Limits(lab="lab-a", parallel=5, per_minute=6)  # one every 10 s
    first = throttle._acquire_files(limits)
    assert first.granted
    second = throttle._acquire_files(limits)
    assert not second.granted and not second.busy
    assert 9.0 < second.wait <= 10.0
    first.release()
    # Waiting for the interval holds no slot: all five are free again.
    tickets = [throttle._acquire_files(throttle.Limits(lab="lab-a", parallel=5)) for _ in range(5)]
    assert all(ticket.granted for ticket in tickets)
    for ticket in tickets:
        ticket.release()
