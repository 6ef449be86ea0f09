"""/api/v1/notifications/: the requesting user's notifications, newest first.

``GET`` lists them (``unread=true|false`` filters, the API's bounded pagination);
``POST …/{id}/read/`` marks one read, ``POST …/read-all/`` all of them. Each notification
carries its ``message`` in the request's language. Another user's notification answers 404,
exactly like an unknown id.
"""

import logging

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from otoorder.notifications.choices import Kind
from otoorder.notifications.models import Notification
from otoorder.notifications.texts import message

logger = logging.getLogger(__name__)


class OrderRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)


class NotificationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    message = serializers.SerializerMethodField(help_text=gettext_lazy("Die Nachricht in der Sprache der Anfrage"))
    order = OrderRefSerializer(read_only=True)
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "order", "created_at", "read", "read_at"]
        read_only_fields = fields

    def get_message(self, notification) -> str:
        return message(notification)


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=gettext_lazy("nur ungelesene (true) oder gelesene (false)")
    )


READ_ALL = inline_serializer("NotificationsMarkedRead", fields={"updated": serializers.IntegerField()})


@extend_schema_view(
    list=extend_schema(parameters=[NotificationFilterSerializer], summary="Benachrichtigungen (neueste zuerst)"),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        notifications = Notification.objects.for_user(self.request.user).select_related("order")
        if self.action == "list":
            filters = NotificationFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            unread = filters.validated_data.get("unread")
            if unread is not None:
                notifications = notifications.filter(read_at__isnull=unread)
        return notifications.order_by("-created_at", "-id")

    @extend_schema(request=None, responses={200: NotificationSerializer}, summary="Als gelesen markieren")
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        Notification.objects.filter(pk=notification.pk).mark_read()
        notification.refresh_from_db(fields=["read_at"])
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: READ_ALL}, summary="Alle als gelesen markieren")
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        updated = Notification.objects.for_user(request.user).mark_read()
        logger.info("user %s marked %s notifications read", request.user.pk, updated)
        return Response({"updated": updated})
