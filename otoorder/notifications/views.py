"""The notification centre of staff: the list, marking as read, the bell's fragment and the
preferences of the daily e-mail digest.

Every query is narrowed to the user's own notifications (``for_user``): another user's
notification answers 404 like an unknown one.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import PreferenceForm
from .models import Notification, Preference
from .services import bell_context, unread_count

logger = logging.getLogger(__name__)

PAGE_SIZE = 25


def _own(request):
    return Notification.objects.for_user(request.user)


def _back(request):
    """Where a mark-as-read returns to: the list page it came from (same host only)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("notifications:list")


@login_required
@require_GET
def notification_list(request):
    only_unread = request.GET.get("ungelesen") == "1"
    notifications = _own(request).select_related("order")
    if only_unread:
        notifications = notifications.unread()
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("seite"))
    return render(
        request,
        "notifications/notification_list.html",
        {"page": page, "only_unread": only_unread, "unread": unread_count(request.user)},
    )


@login_required
@require_GET
def notification_open(request, pk):
    """The link to the order: marks the notification read on the way."""
    notification = get_object_or_404(_own(request), pk=pk)
    _own(request).filter(pk=notification.pk).mark_read()
    return redirect("orders:order_detail", pk=notification.order_id)


@login_required
@require_POST
def notification_read(request, pk):
    notification = get_object_or_404(_own(request), pk=pk)
    _own(request).filter(pk=notification.pk).mark_read()
    return redirect(_back(request))


@login_required
@require_POST
def notification_read_all(request):
    count = _own(request).mark_read()
    text = ngettext(
        "%(count)s Benachrichtigung als gelesen markiert.", "%(count)s Benachrichtigungen als gelesen markiert.", count
    )
    messages.success(request, text % {"count": count})
    return redirect(_back(request))


@login_required
@require_GET
def bell(request):
    """The bell's count, polled by htmx: one indexed count.

    The badge asks with the count it shows (``?n=3``): while that is still the count the
    answer is an empty 204, which htmx does not swap (no DOM change, nothing announced again);
    otherwise the new badge."""
    context = bell_context(unread_count(request.user))
    if request.GET.get("n") == str(context["unread"]):
        response = HttpResponse(status=204)
    else:
        # Without the request: the page's context processors (and their queries) are not needed.
        response = HttpResponse(render_to_string("notifications/_bell_count.html", context))
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    preference = Preference.of(request.user)
    if preference._state.adding:
        preference.language = get_language() or preference.language
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        logger.info("notification preferences of user %s saved", request.user.pk)
        messages.success(request, _("Einstellungen gespeichert."))
        return redirect("notifications:preferences")
    status = 400 if request.method == "POST" else 200
    return render(request, "notifications/preferences.html", {"form": form}, status=status)
