"""What the operator asks of a running otoorder: health, readiness and metrics.

``health`` answers ``/healthz`` and ``/readyz`` (a middleware, first of all); ``metrics`` answers
``/metrics`` in Prometheus' text format from the database. docs/operations.md describes both.
"""
