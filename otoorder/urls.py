from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from otoorder.orders import scorecard_views


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: the app's icon, never a 404."""
    return redirect(static("img/favicon.svg"), permanent=True)


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="orders:order_list", permanent=False)),
    path("favicon.ico", favicon),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("kunden/", include("otoorder.desk.urls")),
    path("bestellungen/", include("otoorder.orders.urls")),
    path("filialverwaltung/laborkennzahlen/", scorecard_views.ScorecardView.as_view(), name="scorecard"),
    path("filialverwaltung/", include("branches.urls")),
    path("benachrichtigungen/", include("otoorder.notifications.urls")),
    path("reklamationen/", include("otoorder.complaints.urls")),
    path("api/", include("otoorder.api.urls")),
    path("django-admin/", admin.site.urls),
    # Outside login and language: the operator's scraper (access by address and/or token).
    path("", include("otoorder.operations.urls")),
]

