"""The site's URLs plus one view that fails, for the 500-mail test."""

from django.urls import path

from lianhu.urls import urlpatterns as site
from staffing.idnumbers import make_valid

ID_NUMBER = make_valid("61010419900101123")


def boom(request):
    raise ValueError(f"未预料的错误 {ID_NUMBER}")


urlpatterns = [path("boom/", boom), *site]
handler500 = "lianhu.errors.server_error"
