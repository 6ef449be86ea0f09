"""The delivery promise with real processes: never lost; sent again only after an outcome
nobody knows, and then under the same key.

* an SMTP lab that drops the line after DATA (the lab may have the order): no re-send within
  the attempt, exactly one later attempt with the same Message-ID, the first one logged as
  "möglicherweise bereits zugestellt";
* one that drops the line before DATA (the lab has nothing): re-sent within the attempt;
* a Redis server of the test's own, frozen with SIGSTOP: the API still answers 201 within
  two seconds, and the sweeper publishes the stored order once Redis is back;
* retries measured in time: a lab that stays down fails the order at the horizon with the
  reason; one that comes back after more failures than the old limit of eight attempts gets
  the order once.

The killed worker (between DATA and the lab's "250") is in test_dispatch_faults.py.
"""

import asyncio
import contextlib
import email
import email.policy
import shutil
import signal
import subprocess
import time

import pytest
import redis

from otoorder.orders import dispatch
from otoorder.orders.choices import AttemptOutcome, DispatchState, OrderStatus
from otoorder.orders.models import Dispatch, EarmouldOrder

from .conftest import SmtpLab, both_ears, free_port, use_broker, wait_for, wait_for_status
from .test_dispatch_real import api_session, messages_for, place

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: How long the lab waits, after dropping the line, for aiosmtpd to cancel its handler.
DROP_WAIT_SECONDS = 10.0


class DroppingSmtpLab(SmtpLab):
    """The SMTP lab, and two more answers for the script of DATA commands and MAIL commands.

    ``"drop"`` (DATA): the message arrived complete, and the lab hangs up before it answers;
    whether it keeps the message is its own business (``dropped``). ``drop_next_mail(n)``:
    the next ``n`` MAIL commands are answered by hanging up (the lab has nothing).
    """

    def __init__(self):
        super().__init__()
        self.dropped = []
        self.mail_commands = 0
        self._mail_drops = 0

    def drop_next_mail(self, count=1):
        with self._lock:
            self._mail_drops += count

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self._lock:
            self.mail_commands += 1
            drop = self._mail_drops > 0
            if drop:
                self._mail_drops -= 1
        if drop:
            await self._hang_up(server)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            drop = bool(self.script) and self.script[0] == "drop"
            if drop:
                self.script.pop(0)
        if not drop:
            return await super().handle_DATA(server, session, envelope)
        self.dropped.append(
            email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        )
        await self._hang_up(server)

    async def _hang_up(self, server):
        server.transport.abort()
        # aiosmtpd cancels this handler when it sees the connection gone.
        await asyncio.sleep(DROP_WAIT_SECONDS)
        raise AssertionError("the lab's connection was not closed")


@pytest.fixture
def dropping_lab():
    lab = DroppingSmtpLab().start()
    yield lab
    lab.stop()


def outcomes(order):
    return list(order.attempts.order_by("number").values_list("number", "outcome"))


# --- re-send only when the lab certainly has nothing -------------------------------------------


def test_line_dropped_after_data_is_repeated_once_later_under_the_same_message_id(
    start_worker, dropping_lab, transaction_obj, dreve_supplier, alice
):
    dropping_lab.answer_next("drop")
    start_worker(email_url=dropping_lab.url)

    order = place(transaction_obj, dreve_supplier, alice)

    wait_for_status(order, OrderStatus.ORDERED, timeout=30)
    (dropped,) = dropping_lab.dropped
    (accepted,) = messages_for(dropping_lab, order)
    assert len(dropping_lab.accepted) == 1
    # The same key both times: the lab can drop the copy.
    assert dropped["Message-ID"] == accepted["Message-ID"] == f"<{order.pk}@otoorder>"
    # Not repeated within the attempt: exactly one further attempt, the first one ambiguous.
    assert outcomes(order) == [(1, AttemptOutcome.AMBIGUOUS), (2, AttemptOutcome.ORDERED)]
    first = order.attempts.get(number=1)
    assert first.get_outcome_display() == "möglicherweise bereits zugestellt"
    assert first.request_summary == {"idempotency_key": f"<{order.pk}@otoorder>"}
    assert "bevor er sie bestätigte" in first.error
    retry_event = order.events.filter(to_status=OrderStatus.QUEUED).last()
    assert "möglicherweise bereits zugestellt" in retry_event.message
    assert dropping_lab.mail_commands == 2


def test_line_dropped_before_data_is_resent_within_the_attempt(
    start_worker, dropping_lab, transaction_obj, dreve_supplier, alice
):
    dropping_lab.drop_next_mail()
    start_worker(email_url=dropping_lab.url)

    order = place(transaction_obj, dreve_supplier, alice)

    wait_for_status(order, OrderStatus.ORDERED, timeout=30)
    assert dropping_lab.mail_commands == 2  # the dropped one and the one on a fresh connection
    assert dropping_lab.dropped == []
    assert len(messages_for(dropping_lab, order)) == len(dropping_lab.accepted) == 1
    assert outcomes(order) == [(1, AttemptOutcome.ORDERED)]


# --- a hung broker does not hang the API ------------------------------------------------------


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test on a free port; yields its process and URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port, db=0, socket_timeout=2)

    def answers():
        if process.poll() is not None:
            raise AssertionError(f"redis-server exited ({process.returncode})")
        with contextlib.suppress(redis.ConnectionError):
            return client.ping()

    wait_for(answers, timeout=10, message="the test's redis-server")
    yield process, f"redis://127.0.0.1:{port}/0", client
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGCONT)
    process.terminate()
    process.wait(timeout=10)


def test_frozen_broker_does_not_hold_the_api_and_the_sweeper_publishes_later(
    live_server, start_worker, broker, own_redis, dropping_lab, transaction_obj, dreve_supplier, alice, dispatch_policy
):
    process, url, client = own_redis
    use_broker(url)
    api = api_session(live_server)
    payload = {
        "transaction": str(transaction_obj.pk),
        "company": str(dreve_supplier.company_id),
        "supplier": str(dreve_supplier.pk),
        "items": both_ears(),
    }
    # A first order while Redis answers: the web process now holds a broker connection.
    warm = api.post(f"{live_server.url}/api/v1/orders/", json=payload, timeout=10)
    assert warm.status_code == 201, warm.text
    assert Dispatch.objects.get(order_id=warm.json()["id"]).last_enqueued_at is not None

    process.send_signal(signal.SIGSTOP)  # Redis hangs: connections stay open, nothing answers
    try:
        started = time.monotonic()
        response = api.post(f"{live_server.url}/api/v1/orders/", json=payload, timeout=10)
        elapsed = time.monotonic() - started
    finally:
        process.send_signal(signal.SIGCONT)

    assert response.status_code == 201, response.text
    assert elapsed < 2.0, f"the API took {elapsed:.2f} s while the broker was frozen"
    order = EarmouldOrder.objects.get(pk=response.json()["id"])
    row = Dispatch.objects.get(order=order)
    assert (order.status, row.state, row.last_enqueued_at) == (OrderStatus.QUEUED, DispatchState.QUEUED, None)

    # Redis is back: the sweeper publishes the stored order (once it is overdue), and a
    # worker sends it; whatever the frozen Redis still held, the lab gets it once.
    assert wait_for(lambda: dispatch.sweep() >= 1, timeout=10, message="the sweeper to publish the row")
    assert Dispatch.objects.get(order=order).last_enqueued_at is not None
    start_worker(email_url=dropping_lab.url, CELERY_BROKER_URL=url)
    wait_for_status(order, OrderStatus.ORDERED, timeout=30)
    assert len(messages_for(dropping_lab, order)) == 1
    assert order.attempts.count() == 1


# --- retries measured in time ----------------------------------------------------------------


def test_lab_down_past_the_horizon_fails_the_order_with_the_reason(
    start_worker, transaction_obj, dreve_supplier, alice
):
    nowhere = f"smtp://127.0.0.1:{free_port()}"  # nothing listens: every attempt is refused
    start_worker(email_url=nowhere, OTOORDER_DISPATCH_RETRY_HORIZON="3")

    order = place(transaction_obj, dreve_supplier, alice)

    wait_for_status(order, OrderStatus.FAILED, timeout=30)
    attempts = list(order.attempts.order_by("number"))
    assert len(attempts) >= 2
    assert {attempt.outcome for attempt in attempts} == {AttemptOutcome.TRANSIENT_ERROR}
    # Retried up to the horizon (3 s after the first attempt), not beyond it by a whole wait.
    span = (attempts[-1].started_at - attempts[0].started_at).total_seconds()
    assert 2.9 <= span <= 3 + 2.0, span
    assert "nicht erreichbar" in order.failure_reason
    assert f"nach {len(attempts)} Versuchen" in order.failure_reason and "aufgegeben" in order.failure_reason
    assert Dispatch.objects.get(order=order).state == DispatchState.FAILED


def test_lab_back_after_more_failures_than_the_old_attempt_limit_gets_the_order_once(
    start_worker, smtp_lab, transaction_obj, dreve_supplier, alice
):
    smtp_lab.answer_next(*["451"] * 10)  # the old limit was eight attempts
    start_worker(email_url=smtp_lab.url, OTOORDER_DISPATCH_RETRY_HORIZON="120")

    order = place(transaction_obj, dreve_supplier, alice)

    wait_for_status(order, OrderStatus.ORDERED, timeout=60)
    assert len(smtp_lab.refused) == 10
    assert len(messages_for(smtp_lab, order)) == len(smtp_lab.accepted) == 1
    assert [outcome for _n, outcome in outcomes(order)] == [AttemptOutcome.TRANSIENT_ERROR] * 10 + [
        AttemptOutcome.ORDERED
    ]
