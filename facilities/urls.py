from django.urls import path

from . import views

app_name = "facilities"

urlpatterns = [
    path("", views.facility_list, name="facility_list"),
    path("new/", views.facility_create, name="facility_create"),
    path("<int:pk>/", views.facility_detail, name="facility_detail"),
    path("<int:pk>/edit/", views.facility_edit, name="facility_edit"),
    path("<int:pk>/history/", views.facility_history, name="facility_history"),
    path("<int:pk>/advance/", views.facility_advance, name="facility_advance"),
]
