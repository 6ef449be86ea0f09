"""``/metrics`` (``/healthz`` and ``/readyz`` are answered by ``health.HealthMiddleware``)."""

from django.urls import path

from . import metrics

urlpatterns = [path("metrics", metrics.metrics, name="metrics")]
