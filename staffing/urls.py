from django.urls import path

from . import views

app_name = "staffing"

urlpatterns = [
    path("communities/<int:pk>/liangwei/", views.composition, name="composition"),
    path("communities/<int:pk>/roster.xlsx", views.roster_export, name="roster_export"),
    path("communities/<int:pk>/workers/new/", views.worker_create, name="worker_create"),
    path("communities/<int:pk>/seats/new/", views.seat_create, name="seat_create"),
    path("communities/<int:pk>/trainings/new/", views.training_create, name="training_create"),
    path("communities/<int:pk>/assessments/<int:year>/", views.assessment_year, name="assessment_year"),
    path("persons/", views.person_list, name="person_list"),
    path("persons/<str:public_id>/", views.person_detail, name="person_detail"),
    path("persons/<str:public_id>/reveal/", views.person_reveal, name="person_reveal"),
    path("persons/<str:public_id>/care/", views.care_create, name="care_create"),
    path("assessments/<int:pk>/decision/", views.assessment_decision_create, name="assessment_decision_create"),
    path("employments/<int:pk>/edit/", views.employment_edit, name="employment_edit"),
    path("employments/<int:pk>/exit/", views.exit_start, name="exit_start"),
    path("exits/<int:pk>/next/", views.exit_advance, name="exit_advance"),
    path("seats/<int:pk>/end/", views.seat_end, name="seat_end"),
    path("vacancies/<int:pk>/fill/", views.vacancy_fill, name="vacancy_fill"),
    path("transfers/", views.transfer_list, name="transfer_list"),
    path("transfers/<int:pk>/decide/", views.transfer_decide, name="transfer_decide"),
]
