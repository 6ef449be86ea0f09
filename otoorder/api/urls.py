"""/api/schema/ (OpenAPI, ``?format=json``) and the REST API under /api/v1/.

No Swagger/Redoc page: drf-spectacular's UIs load their assets from a CDN, and nothing here
contacts a third-party host.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import attachments, callbacks, catalogue, complaints, impressions, notifications, parcels, tokens, views

app_name = "api"

router = SimpleRouter()
router.register("branches", views.BranchViewSet, basename="branch")
router.register("interface-definitions", views.InterfaceDefinitionViewSet, basename="interface-definition")
router.register("companies", views.CompanyViewSet, basename="company")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("transaction-templates", views.TransactionTemplateViewSet, basename="transaction-template")
router.register("transactions", views.TransactionViewSet, basename="transaction")
router.register("orders", views.OrderViewSet, basename="order")
router.register("notifications", notifications.NotificationViewSet, basename="notification")
router.register("parcels", parcels.ParcelViewSet, basename="parcel")
router.register("complaints", complaints.ComplaintViewSet, basename="complaint")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/auth/token/", tokens.TokenView.as_view(), name="token"),
    path("v1/backends/", views.BackendListView.as_view(), name="backends"),
    path("v1/callbacks/<str:definition_id>/", callbacks.CallbackView.as_view(), name="callback"),
    path("v1/catalogue/", catalogue.CatalogueView.as_view(), name="catalogue"),
    path("v1/impressions/", impressions.ImpressionListView.as_view(), name="impressions"),
    path("v1/complaint-reasons/", complaints.ComplaintReasonListView.as_view(), name="complaint-reasons"),
    path("v1/orders/<uuid:pk>/complaints/", complaints.OrderComplaintCreateView.as_view(), name="order-complaints"),
    path("v1/orders/<uuid:pk>/attachments/", attachments.OrderAttachmentListView.as_view(), name="order-attachments"),
    path("v1/", include(router.urls)),
]
