from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="orders:order_list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("kunden/", include("otoorder.desk.urls")),
    path("bestellungen/", include("otoorder.orders.urls")),
    path("filialverwaltung/", include("branches.urls")),
    path("benachrichtigungen/", include("otoorder.notifications.urls")),
    path("api/", include("otoorder.api.urls")),
    path("django-admin/", admin.site.urls),
]

