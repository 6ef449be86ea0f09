"""Staff views of order attachments: upload on the order page, download for the order's branch.

Orders and attachments are found through ``visible_to(user)`` (``branches.access``): another
branch's order answers 404. Files reach the browser only through :func:`attachment_download`,
as a download that is never cached.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import attachments
from .downloads import stored_file_response
from .models import EarmouldOrder, OrderAttachment


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Anhang (PDF, PNG oder JPEG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )


@login_required
@require_POST
def attachment_upload(request, pk):
    order = get_object_or_404(EarmouldOrder.objects.visible_to(request.user), pk=pk)
    try:
        attachments.check_request_size(request)
        form = AttachmentForm(request.POST, request.FILES)
        if not form.is_valid():
            raise ValidationError(_("Bitte eine Datei auswählen."))
        attachments.add_attachment(order, form.cleaned_data["file"], user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Anhang gespeichert."))
    return redirect("orders:order_detail", pk=order.pk)


@login_required
@require_GET
@never_cache
def attachment_download(request, pk):
    attachment = get_object_or_404(
        OrderAttachment.objects.visible_to(request.user), pk=pk
    )
    return stored_file_response(
        request,
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        subject=f"attachment {attachment.pk}",
    )
