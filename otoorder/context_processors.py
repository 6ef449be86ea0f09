from django.conf import settings

from branches.scope import admin_scope


def otoorder(request):
    """What every page needs: demo mode and whether to show branch administration."""
    user = getattr(request, "user", None)
    can_admin = bool(user and user.is_authenticated and admin_scope(user).exists)
    return {"DEMO_MODE": settings.DEMO_MODE, "can_administer": can_admin}
