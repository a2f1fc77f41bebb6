from django.urls import path

from . import views

app_name = "funding"

urlpatterns = [
    path("", views.funding_overview, name="overview"),
    path("allocations/new/", views.allocation_entry, name="allocation_entry"),
    path("salary/new/", views.salary_entry, name="salary_entry"),
    path("tasks/new/", views.task_fund_entry, name="task_fund_entry"),
]
