"""Worker-side probe of the benchmark: when tasks start and finish, counted in Redis.

The benchmark loads it into its Celery workers (``celery worker -I bench_probe`` with this
folder on ``PYTHONPATH``). The same three Redis calls run around every task, the no-op
yardstick and the order dispatch alike, so both rates are measured the same way:

* ``bench:first:<task>`` – wall-clock time the first task of that name started (set once),
* ``bench:last:<task>`` – time the latest one finished,
* ``bench:done:<task>`` – how many finished.
"""

import os
import time

import redis
from celery.signals import task_postrun, task_prerun

_client = None


def _redis():
    # Created lazily in each pool process (after the fork), never shared across processes.
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["BENCH_PROBE_REDIS_URL"])
    return _client


@task_prerun.connect
def task_started(sender=None, **_kwargs):
    _redis().set(f"bench:first:{sender.name}", repr(time.time()), nx=True)


@task_postrun.connect
def task_finished(sender=None, **_kwargs):
    pipe = _redis().pipeline(transaction=False)
    pipe.set(f"bench:last:{sender.name}", repr(time.time()))
    pipe.incr(f"bench:done:{sender.name}")
    pipe.execute()
