from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("todo/", views.todo, name="todo"),
    path("findings/<int:pk>/act/", views.finding_act, name="finding_act"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("documents/", views.document_list, name="document_list"),
    path("documents/<int:pk>/", views.document_detail, name="document_detail"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
    path("bulletins/", views.bulletin_list, name="bulletin_list"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/act/", views.bulletin_act, name="bulletin_act"),
    path("bulletins/<int:pk>/download/", views.bulletin_download, name="bulletin_download"),
    path("assessment/", views.assessment_page, name="assessment"),
    path("assessment/method/", views.assessment_method, name="assessment_method"),
    path("assessment/<int:year>.xlsx", views.assessment_workbook, name="assessment_workbook"),
    path("assessment/<int:year>/<str:unit>/", views.assessment_unit, name="assessment_unit"),
]
