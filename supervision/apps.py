from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "整改与督导考核"
    default_auto_field = "django.db.models.BigAutoField"
