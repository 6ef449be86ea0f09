"""The demo data of ``make run`` gives demo-staff something under the bell."""

from django.contrib.auth import get_user_model

from otoorder.notifications.models import Notification
from tests.test_demo_data import load, sandbox_env  # noqa: F401 - the fixture of make run's environment


def test_demo_staff_has_notifications_once(db, sandbox_env, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        load()
    staff = get_user_model().objects.get(username="demo-staff")
    kinds = sorted(Notification.objects.filter(recipient=staff).values_list("kind", flat=True))
    # The demo orders at the lab: confirmed (and overdue), two shipped with a tracking number
    # (one on its way, one due at the branch).
    assert kinds == ["confirmed", "overdue", "shipped", "shipped"]
    for shipped in Notification.objects.filter(recipient=staff, kind="shipped"):
        assert shipped.params["tracking"] and shipped.params["carrier"] == "dhl"
    assert not Notification.objects.exclude(recipient=staff).exists()  # the chain admin is not told
    # Loading again adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        output = load()
    assert "0 created, 0 updated" in output
    assert Notification.objects.count() == 4
