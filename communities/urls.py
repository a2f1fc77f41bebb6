from django.urls import path

from . import views

app_name = "communities"

# "home" itself is registered without namespace in lianhu/urls.py (base.html uses {% url 'home' %}).
urlpatterns = [
    path("subdistricts/", views.subdistrict_list, name="subdistrict_list"),
    path("communities/", views.community_list, name="community_list"),
    path("communities/new/", views.community_create, name="community_create"),
    path("communities/<int:pk>/", views.community_detail, name="community_detail"),
    path("communities/<int:pk>/edit/", views.community_edit, name="community_edit"),
    path("communities/<int:pk>/history/", views.community_history, name="community_history"),
    path("communities/<int:pk>/print/", views.community_print, name="community_print"),
    path("communities/<int:pk>/revoke/", views.community_revoke, name="community_revoke"),
    path("communities/<int:pk>/adjustments/new/", views.adjustment_create, name="adjustment_create"),
    path("compounds/", views.compound_list, name="compound_list"),
    path("compounds/new/", views.compound_create, name="compound_create"),
    path("compounds/<int:pk>/", views.compound_detail, name="compound_detail"),
    path("compounds/<int:pk>/edit/", views.compound_edit, name="compound_edit"),
    path("compounds/<int:pk>/history/", views.compound_history, name="compound_history"),
]
