from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("ledger/<str:kind>/", views.ledger, name="ledger"),
    path("compliance.xlsx", views.compliance_workbook, name="compliance"),
]
