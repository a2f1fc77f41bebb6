from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from communities.views import home

admin.site.site_header = "莲湖区社区管理系统 · 管理后台"
admin.site.site_title = "莲湖区社区管理系统"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("", home, name="home"),
    path("", include("communities.urls")),
    path("facilities/", include("facilities.urls")),
    path("funding/", include("funding.urls")),
    path("staffing/", include("staffing.urls")),
    path("compliance/", include("compliance.urls")),
    path("supervision/", include("supervision.urls")),
    path("approvals/", include("approvals.urls")),
    path("imports/", include("imports.urls")),
    path("exports/", include("exports.urls")),
    path("ops/", include("ops.urls")),
]

# Chinese error pages; a lost database gets its own (lianhu/errors.py).
handler500 = "lianhu.errors.server_error"
