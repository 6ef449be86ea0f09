"""Operations: /healthz, /metrics (series from the database, constant queries, access) and the
refused-callback counter. /readyz against real services is in tests/integration/test_operations.py."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from otoorder.operations import metrics as ops_metrics
from otoorder.orders.choices import AttemptOutcome, DispatchState, OrderStatus
from otoorder.orders.models import Attempt, CallbackReceipt, CallbackRefusal, Dispatch, EarmouldOrder
from tests import factories as f

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-0123456789"


# --- /healthz ----------------------------------------------------------------------------------


def test_healthz_answers_without_the_database_and_for_any_host(django_assert_num_queries):
    client = Client()
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.20.30.40")  # a probe naming the host by address
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_refuses_other_methods():
    response = Client().post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


# --- /metrics: access --------------------------------------------------------------------------


def scrape(address="127.0.0.1", token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return Client(REMOTE_ADDR=address).get("/metrics", **headers)


def test_metrics_refused_to_everyone_when_nothing_is_configured(settings):
    settings.OTOORDER_METRICS_ALLOWED_IPS = []
    settings.OTOORDER_METRICS_TOKEN = ""
    response = scrape("127.0.0.1", token="anything")
    assert response.status_code == 403
    assert response.content.decode() == "Kein Zugriff auf die Metriken."


def test_metrics_by_address_list(settings):
    settings.OTOORDER_METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.168.7.7/32"]
    settings.OTOORDER_METRICS_TOKEN = ""
    assert scrape("10.1.2.3").status_code == 200
    assert scrape("192.168.7.7").status_code == 200
    assert scrape("::ffff:10.9.9.9").status_code == 200  # IPv4 seen through a dual-stack socket
    assert scrape("192.168.7.8").status_code == 403
    assert scrape("127.0.0.1").status_code == 403
    assert scrape("not-an-address").status_code == 403


def test_metrics_by_token(settings):
    settings.OTOORDER_METRICS_ALLOWED_IPS = []
    settings.OTOORDER_METRICS_TOKEN = TOKEN
    assert scrape("203.0.113.9", token=TOKEN).status_code == 200
    assert scrape("203.0.113.9").status_code == 403
    assert scrape("203.0.113.9", token="wrong").status_code == 403
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 403


def test_metrics_with_both_configured_needs_both(settings):
    settings.OTOORDER_METRICS_ALLOWED_IPS = ["10.0.0.5"]
    settings.OTOORDER_METRICS_TOKEN = TOKEN
    assert scrape("10.0.0.5", token=TOKEN).status_code == 200
    assert scrape("10.0.0.6", token=TOKEN).status_code == 403
    assert scrape("10.0.0.5").status_code == 403
    assert scrape("10.0.0.5", token="wrong").status_code == 403


def test_metrics_answer_get_only(settings):
    settings.OTOORDER_METRICS_TOKEN = TOKEN
    response = Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


# --- /metrics: the series ----------------------------------------------------------------------


@pytest.fixture
def labs(chain, mitte, customer, template, alice):
    """Two labs: Dreve by e-mail (standard), egger through its ERP interface definition."""
    dreve = f.SupplierFactory(company=f.CompanyFactory(name="Dreve"), order_email="bestellung@dreve.test")
    egger = f.SupplierFactory(company=f.CompanyFactory(name="egger"), name="egger Kempten")
    definition = f.InterfaceDefinitionFactory(chain=chain, backend="egger_erp", supplier=egger)
    txn = f.TransactionFactory(customer=customer, template=template, started_by=alice)
    return {"dreve": dreve, "egger": egger, "definition": definition, "transaction": txn}


def make_orders(labs, prefix, queued_dreve=2, queued_egger=1, sent=3):
    """Orders in several states with their outbox rows and attempts."""
    txn, now = labs["transaction"], timezone.now()
    queued = f.bulk_orders(txn, labs["dreve"], queued_dreve, prefix=f"{prefix}D", status=OrderStatus.QUEUED)
    egger = f.bulk_orders(
        txn, labs["egger"], queued_egger, prefix=f"{prefix}E", status=OrderStatus.QUEUED,
        interface_definition=labs["definition"],
    )  # fmt: skip
    EarmouldOrder.objects.filter(pk__in=[order.pk for order in egger]).update(backend="egger_erp")
    queued += egger
    ordered = f.bulk_orders(txn, labs["dreve"], sent, prefix=f"{prefix}S", status=OrderStatus.ORDERED)
    Dispatch.objects.bulk_create(
        [Dispatch(order=order, state=DispatchState.QUEUED, due_at=now) for order in queued]
        + [Dispatch(order=order, state=DispatchState.DONE, due_at=now) for order in ordered]
    )
    Attempt.objects.bulk_create(
        [
            Attempt(order=order, number=1, started_at=now, duration_ms=80, outcome=AttemptOutcome.ORDERED)
            for order in ordered
        ]
        + [
            Attempt(order=order, number=1, started_at=now, duration_ms=30_000, outcome=AttemptOutcome.TRANSIENT_ERROR)
            for order in queued[queued_dreve:]
        ]
    )
    return queued, ordered


def families(text):
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(family, suffix="", **labels):
    matches = [
        sample.value
        for sample in family.samples
        if sample.name == family.name + suffix and all(sample.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matches) == 1, (family.name, suffix, labels, family.samples)
    return matches[0]


def test_metrics_show_every_named_series_from_the_database(settings, labs, django_assert_num_queries):
    settings.OTOORDER_METRICS_TOKEN = TOKEN
    queued, ordered = make_orders(labs, "A")
    Dispatch.objects.filter(order=queued[0]).update(created_at=timezone.now() - timedelta(minutes=10))
    CallbackReceipt.objects.create(interface_definition=labs["definition"], signature="a" * 64, body_sha256="b" * 64)
    # Refused callbacks, through the endpoint: a definition that does not exist, a bad signature.
    api = Client()
    assert api.post(f"/api/v1/callbacks/{uuid.uuid4()}/", b"{}", content_type="application/json").status_code == 404
    assert api.post(f"/api/v1/callbacks/{uuid.uuid4()}/", b"{}", content_type="application/json").status_code == 404
    assert CallbackRefusal.objects.get(backend="", code="not_found").count == 2

    with django_assert_num_queries(ops_metrics.QUERIES):
        response = scrape(token=TOKEN)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    got = families(text)
    assert value(got["otoorder_orders"], status="queued") == 3
    assert value(got["otoorder_orders"], status="ordered") == 3
    assert value(got["otoorder_orders"], status="shipped") == 0

    attempts = got["otoorder_dispatch_attempts"]
    assert value(attempts, "_total", backend="standard", purpose="order", outcome="ordered") == 3
    assert value(attempts, "_total", backend="egger_erp", purpose="order", outcome="transient_error") == 1

    latency = got["otoorder_send_duration_seconds"]
    assert value(latency, "_bucket", backend="standard", le="0.1") == 3
    assert value(latency, "_bucket", backend="standard", le="0.05") == 0
    assert value(latency, "_count", backend="standard") == 3
    assert value(latency, "_sum", backend="standard") == pytest.approx(0.24)
    assert value(latency, "_bucket", backend="egger_erp", le="10.0") == 0
    assert value(latency, "_bucket", backend="egger_erp", le="30.0") == 1

    depth = got["otoorder_queue_depth"]
    dreve, egger = str(labs["dreve"].pk), str(labs["egger"].pk)
    assert value(depth, kind="order", supplier=dreve, lab="Dreve", backend="standard", state="queued") == 2
    assert value(
        depth, kind="order", supplier=egger, lab="egger Kempten", backend="egger_erp",
        interface=str(labs["definition"].pk), state="queued",
    ) == 1  # fmt: skip
    assert not [s for s in depth.samples if s.labels["state"] == "done"]
    age = got["otoorder_queue_oldest_age_seconds"]
    assert 600 <= value(age, kind="order", supplier=dreve) < 700
    assert value(age, kind="order", supplier=egger) < 60
    assert 600 <= value(got["otoorder_oldest_queued_order_age_seconds"]) < 700

    assert value(got["otoorder_callbacks_accepted"], "_total", backend="egger_erp") == 1
    assert value(got["otoorder_callbacks_refused"], "_total", backend="", reason="not_found") == 2
    # Nothing of the customer in any label.
    assert "Mustermann" not in text and "Erika" not in text


def test_metrics_queries_do_not_grow_with_the_data(settings, labs, django_assert_num_queries):
    settings.OTOORDER_METRICS_TOKEN = TOKEN
    make_orders(labs, "A", queued_dreve=1, queued_egger=1, sent=1)
    with django_assert_num_queries(ops_metrics.QUERIES):
        assert scrape(token=TOKEN).status_code == 200
    make_orders(labs, "B", queued_dreve=40, queued_egger=25, sent=60)
    third = f.SupplierFactory(company=f.CompanyFactory(name="Hörluchs"))
    f.bulk_orders(labs["transaction"], third, 5, prefix="C", status=OrderStatus.SHIPPED)
    with django_assert_num_queries(ops_metrics.QUERIES):
        text = scrape(token=TOKEN).content.decode()
    assert value(families(text)["otoorder_orders"], status="queued") == 67


def test_refused_callbacks_counted_per_backend_and_reason(labs, chain, dreve_supplier):
    portal = f.portal_definition(chain, dreve_supplier.company, dreve_supplier)
    api = Client()
    url = f"/api/v1/callbacks/{portal.pk}/"
    for _ in range(3):
        response = api.post(
            url, b'{"orders": []}', content_type="application/json", HTTP_X_OTOORDER_SIGNATURE="t=1,v1=00"
        )
        assert response.status_code == 400
    assert api.post(url, b"x" * (1024 * 1024 + 1), content_type="application/json").status_code == 413
    counts = {(r.backend, r.code): r.count for r in CallbackRefusal.objects.all()}
    assert counts == {
        ("audia_easy_order_portal", "invalid_signature"): 3,
        ("audia_easy_order_portal", "payload_too_large"): 1,
    }


# --- settings ----------------------------------------------------------------------------------

SETTINGS_PROBE = (
    "import django; django.setup(); from django.conf import settings; from otoorder import celery_app; "
    "print(celery_app.conf.worker_max_memory_per_child, celery_app.conf.worker_hijack_root_logger, "
    "settings.OTOORDER_METRICS_ALLOWED_IPS)"
)


def probe_settings(**env):
    from tests.test_settings import production_env, run

    return run(["-c", SETTINGS_PROBE], production_env(**env))


def test_worker_memory_per_child_is_bounded_by_default_and_configurable():
    default = probe_settings()
    assert default.returncode == 0, default.stderr
    assert default.stdout.split()[0] == str(200 * 1024)  # KiB, as Celery counts
    configured = probe_settings(OTOORDER_WORKER_MAX_MEMORY_MB="150", OTOORDER_LOG_FORMAT="json")
    assert configured.stdout.split()[:2] == [str(150 * 1024), "False"]
    assert probe_settings(OTOORDER_WORKER_MAX_MEMORY_MB="0").stdout.split()[0] == "None"


def test_metrics_networks_and_log_format_are_checked_at_start():
    ok = probe_settings(OTOORDER_METRICS_ALLOWED_IPS="10.1.2.3/8, 127.0.0.1")
    assert ok.returncode == 0, ok.stderr
    assert "['10.0.0.0/8', '127.0.0.1/32']" in ok.stdout
    assert probe_settings(OTOORDER_METRICS_ALLOWED_IPS="10.0.0.0/8,intranet").returncode != 0
    bad_format = probe_settings(OTOORDER_LOG_FORMAT="xml")
    assert bad_format.returncode != 0
    assert "OTOORDER_LOG_FORMAT must be 'plain' or 'json'." in bad_format.stderr
