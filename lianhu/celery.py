import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lianhu.settings")

app = Celery("lianhu")
# Every CELERY_* setting lives in lianhu/settings.py, read from the environment.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
