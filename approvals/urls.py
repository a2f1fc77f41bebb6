from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.request_list, name="request_list"),
    path("new/", views.request_new, name="request_new"),
    path("split/", views.request_split, name="request_split"),
    path("merge/", views.request_merge, name="request_merge"),
    path("<int:pk>/", views.request_detail, name="request_detail"),
    path("<int:pk>/act/", views.request_act, name="request_act"),
    path("<int:pk>/print/", views.request_print, name="request_print"),
    path("parts/<int:pk>/edit/", views.part_edit, name="part_edit"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/<int:year>.xlsx", views.year_end_report, name="year_end_report"),
]
