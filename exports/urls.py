from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("ledger/<str:kind>/", views.ledger, name="ledger"),
    path("compliance.xlsx", views.compliance_workbook, name="compliance"),
    path("start/", views.start, name="start"),
    path("mine/", views.job_list, name="job_list"),
    path("mine/<uuid:pk>/", views.job_detail, name="job_detail"),
    path("mine/<uuid:pk>/progress/", views.job_progress, name="job_progress"),
    path("mine/<uuid:pk>/download/", views.job_download, name="job_download"),
]
