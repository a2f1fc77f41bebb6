"""gunicorn settings for lianhu-web.service (`gunicorn -c deploy/gunicorn.conf.py lianhu.wsgi`).

The worker class is the one bench/load.py measured (gthread, cores + 1 workers × 2
threads: p95 188 ms for 20 users, README「Benchmarks」). Every value can be changed
in /etc/lianhu/lianhu.env without editing this file.

Logs: the access log is written through Python logging with the same ID-number
redaction as the application's own log (a query string can carry an ID number),
as one JSON object a line when DJANGO_LOG_FORMAT=json (the production default),
with the request id nginx sends (X-Request-ID), which the application logs too.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
# The slowest page request (a large export is a download built in the request) stays well under this;
# imports and sweeps run in the Celery worker, not here.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = "127.0.0.1"
proxy_allow_ips = "127.0.0.1"

# "-": the journal (with the rest of the unit's output); a path: that file, rotated by deploy/logrotate/lianhu.
_access_target = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# logconfig_dict below carries the access log; gunicorn's own unfiltered handler stays off.
accesslog = None
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%({x-request-id}i)s"'

# Same default as lianhu/settings.py: JSON unless debug is on.
_debug = os.environ.get("DJANGO_DEBUG", "0").lower() in ("1", "true", "yes", "on")
_json = os.environ.get("DJANGO_LOG_FORMAT", "plain" if _debug else "json") == "json"
_handler_stream = "ext://sys.stdout"

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_id_numbers": {"()": "staffing.logfilters.RedactIdNumbers"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
            # With the offset: gunicorn logs before Django sets TZ (UTC), the application after (Asia/Shanghai).
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "stream": _handler_stream,
                    "formatter": "json" if _json else "plain", "filters": ["redact_id_numbers"]},
        "access": (
            {"class": "logging.StreamHandler", "stream": _handler_stream}
            if _access_target == "-"
            # WatchedFileHandler reopens the file after logrotate moved it (deploy/logrotate/lianhu).
            else {"class": "logging.handlers.WatchedFileHandler", "filename": _access_target}
        ) | {"formatter": "json" if _json else "plain", "filters": ["redact_id_numbers"]},
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
}
