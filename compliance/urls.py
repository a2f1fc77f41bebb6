from django.urls import path

from . import views

app_name = "compliance"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("findings/<int:pk>/waive/", views.finding_waive, name="finding_waive"),
    path("findings/<int:pk>/supervise/", views.finding_supervise, name="finding_supervise"),
    path("supervision/", views.supervision_list, name="supervision_list"),
    path("rules/", views.rule_catalogue, name="rule_catalogue"),
    path("figures/", views.district_figures_page, name="district_figures"),
    path("rules/<str:rule_id>/parameters/<str:name>/", views.parameter_set, name="parameter_set"),
    path("sweeps/", views.sweep_list, name="sweep_list"),
    path("sweeps/start/", views.sweep_start, name="sweep_start"),
    path("sweeps/<int:pk>/", views.sweep_detail, name="sweep_detail"),
]
