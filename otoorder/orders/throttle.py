"""Limits per lab: how many transfers run at once and how often one may start.

A lab is an interface definition (``InterfaceDefinition.max_parallel_sends`` and
``sends_per_minute``, set in branch administration). Before a worker talks to the lab it asks
for a ticket; a lab at its limit answers "wait", and the caller re-queues its task instead of
holding a worker process (``lanes``), or skips a poll until the next run (``polling``).

The counters live where every worker on every host sees them:

* on Redis (the broker, ``CELERY_BROKER_URL`` ``redis://``): one Lua script checks and takes
  a ticket atomically. Running transfers are a sorted set whose members expire after
  ``SENDING_DEADLINE`` (when the sweeper, too, presumes a worker dead), so a killed worker's
  ticket frees itself; the next allowed start is a key with the lab's interval. Redis' own
  clock decides, not the hosts'.
* with the embedded file broker (one host, ``make run``): lock files in the var folder, as
  the pollers' lock (``polling.definition_lock``); the kernel frees a dead process's lock.

A Redis that cannot be asked does not stop sending: the ticket is granted (and logged), as the
outbox row stays the truth and the lab dedupes by the idempotency key.
"""

import fcntl
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from functools import cache

import redis
from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

#: KEYS[1]: the lab's transfers in progress (sorted set: ticket → expiry, ms); KEYS[2]: the
#: lab's next allowed start (ms). ARGV: ticket, parallel limit (0: none), ticket lifetime
#: (ms), interval (ms, 0: none). Returns {1, 0} (granted), {0, -1} (all slots taken) or
#: {0, ms} (the interval has ms to run).
ACQUIRE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if limit > 0 and redis.call('ZCARD', KEYS[1]) >= limit then
  return {0, -1}
end
if interval > 0 then
  local next_at = tonumber(redis.call('GET', KEYS[2]) or '0')
  if next_at > now then
    return {0, next_at - now}
  end
  redis.call('SET', KEYS[2], now + interval, 'PX', interval)
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return {1, 0}
"""
KEY_PREFIX = "otoorder:lab:"


@dataclass(frozen=True)
class Limits:
    """A lab's limits: ``lab`` is the definition's id; ``per_minute`` None means no rate limit."""

    lab: str
    parallel: int
    per_minute: int | None = None

    @property
    def interval(self):
        """Seconds between two starts, or 0."""
        return 60.0 / self.per_minute if self.per_minute else 0.0


@dataclass
class Ticket:
    """The answer: ``granted``, or ``wait`` seconds (None: a slot must free, time unknown)."""

    granted: bool
    wait: float | None = None
    busy: bool = False
    _release: object = field(default=None, repr=False)

    def release(self):
        if self._release is not None:
            release, self._release = self._release, None
            release()


def limits_of(definition):
    """The limits an interface definition sets for its lab."""
    return Limits(lab=str(definition.pk), parallel=definition.max_parallel_sends, per_minute=definition.sends_per_minute)


def acquire(limits):
    """A ticket for one transfer to the lab; ``release()`` it when the transfer ends."""
    url = broker_url()
    if url.startswith(("redis://", "rediss://")):
        return _acquire_redis(client(url), limits)
    return _acquire_files(limits)


def broker_url():
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    return current_app.conf.broker_url or ""


def ticket_lifetime():
    """Milliseconds a ticket lives at most: a worker that died mid-send frees it by then."""
    return int(settings.OTOORDER_DISPATCH["SENDING_DEADLINE"].total_seconds() * 1000)


# --- Redis (several workers on several hosts) -------------------------------------------------


@cache
def client(url):
    timeout = settings.BROKER_TIMEOUT
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def keys(limits):
    return [f"{KEY_PREFIX}{limits.lab}:running", f"{KEY_PREFIX}{limits.lab}:next"]


def _acquire_redis(connection, limits):
    running, next_key = keys(limits)
    token = uuid.uuid4().hex
    try:
        granted, wait_ms = connection.eval(
            ACQUIRE_SCRIPT,
            2,
            running,
            next_key,
            token,
            limits.parallel or 0,
            ticket_lifetime(),
            int(limits.interval * 1000),
        )
    except redis.RedisError:
        logger.warning("lab %s: limits not checked, Redis did not answer", limits.lab, exc_info=True)
        return Ticket(granted=True)
    if not granted:
        return Ticket(granted=False, busy=wait_ms < 0, wait=None if wait_ms < 0 else wait_ms / 1000)

    def release():
        try:
            connection.zrem(running, token)
        except redis.RedisError:
            # The ticket expires on its own after its lifetime.
            logger.warning("lab %s: ticket not returned, Redis did not answer", limits.lab, exc_info=True)

    return Ticket(granted=True, _release=release)


# --- lock files (the embedded broker: one host) -----------------------------------------------


def lock_folder():
    folder = os.path.join(settings.VAR_DIR, "locks")
    os.makedirs(folder, exist_ok=True)
    return folder


def _acquire_files(limits):
    """One of the lab's ``parallel`` lock files, held until ``release()`` (or the process dies)."""
    folder = lock_folder()
    held = None
    if limits.parallel:
        held = _lock_one(os.path.join(folder, f"lab-{limits.lab}-{slot}.lock") for slot in range(limits.parallel))
        if held is None:
            return Ticket(granted=False, busy=True)
    release = held.close if held is not None else None
    if limits.interval:
        wait = _take_interval(os.path.join(folder, f"lab-{limits.lab}-next"), limits.interval)
        if wait:
            if release is not None:
                release()
            return Ticket(granted=False, wait=wait)
    return Ticket(granted=True, _release=release)


def _lock_one(paths):
    """The first of ``paths`` this process could lock (an open handle), or None."""
    for path in paths:
        handle = open(path, "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return handle
    return None


def _take_interval(path, interval):
    """0 when a transfer may start now (and the next start is moved on), else seconds to wait."""
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        try:
            next_at = float(handle.read() or 0)
        except ValueError:
            next_at = 0.0
        now = time.time()
        if next_at > now:
            return next_at - now
        handle.seek(0)
        handle.truncate()
        handle.write(repr(now + interval))
        return 0.0
