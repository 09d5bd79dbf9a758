"""HTTP routes: the admin, authentication pages, the API and the browser front end."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.throttling import password_throttled

urlpatterns = [
    # Both sign-in pages share the token endpoint's budget of password attempts per address (api/throttling.py);
    # the admin's own login route below is never reached.
    path("admin/login/", password_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", password_throttled(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("api.urls")),
    path("", include("frontend.urls")),
]

# Under /api/ an unknown path and an unexpected error answer {"message", "extra"} like every API error.
handler404 = "api.exception_handlers.page_not_found"
handler500 = "api.exception_handlers.server_error"
