"""/api/v1/orders/{id}/attachments/: list an order's attachments, upload one (multipart ``file``).

A file that is not a PDF, PNG or JPEG by its content answers 400 with code
``invalid_attachment`` (``attachment_too_large`` above the limit, ``attachment_not_allowed``
once the order is sent). Orders of other branches answer 404.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from otoorder.orders import attachments
from otoorder.orders.models import EarmouldOrder, OrderAttachment

from .serializers.common import page_url

logger = logging.getLogger(__name__)


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text=gettext_lazy("Download des Anhangs"))

    class Meta:
        model = OrderAttachment
        fields = ["id", "order", "original_name", "content_type", "file_size", "sha256", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return page_url(self, "orders:attachment_download", attachment.pk)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("PDF, PNG oder JPEG"))


class OrderAttachmentListView(generics.ListCreateAPIView):
    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = None

    def _order(self):
        return get_object_or_404(EarmouldOrder.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    def get_queryset(self):
        return OrderAttachment.objects.filter(order=self._order()).order_by("created_at")

    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer}, responses={201: AttachmentSerializer})
    def post(self, request, *args, **kwargs):
        order = self._order()
        try:
            attachments.check_request_size(request)
            upload = AttachmentUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            attachment = attachments.add_attachment(order, upload.validated_data["file"], user=request.user)
        except DjangoValidationError as exc:
            errors = as_serializer_error(exc) if hasattr(exc, "error_dict") else {"file": exc.messages}
            code = exc.error_dict["file"][0].code if hasattr(exc, "error_dict") else exc.code
            logger.info("attachment refused (%s) for order %s", code, order.pk)
            body = {"code": code, "detail": exc.messages[0], "errors": errors}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)
