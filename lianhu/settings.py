"""The one settings module. Everything that differs between a laptop, CI and
production comes from the environment (see the README's table)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-not-secret-lianhu-community-management")
else:
    # No default: a production process without a real key must not start.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")

# 身份证号 at rest (staffing/idcrypto.py): Fernet keys, comma-separated, the first encrypts; the HMAC key of the
# look-up digest. Development defaults under debug only; docs/deployment.md says how to make and rotate them.
if DEBUG:
    FIELD_ENCRYPTION_KEYS = env.list("DJANGO_FIELD_ENCRYPTION_KEY",
                                     default=["ZGV2LW9ubHktbGlhbmh1LWlkLW51bWJlcnMta2V5LTA="])
    FIELD_HASH_KEY = env.str("DJANGO_FIELD_HASH_KEY", default="dev-only-lianhu-id-number-digest")
else:
    FIELD_ENCRYPTION_KEYS = env.list("DJANGO_FIELD_ENCRYPTION_KEY", default=[])
    FIELD_HASH_KEY = env.str("DJANGO_FIELD_HASH_KEY", default="")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "simple_history",
    "django_filters",
    "import_export",
    "csp",
    # Two-factor sign-in: authenticator apps (TOTP) and one-time recovery codes (static tokens).
    "django_otp",
    "accounts.apps.OtpTotpConfig",
    "accounts.apps.OtpStaticConfig",
    "core",
    "accounts",
    "communities",
    "facilities",
    "funding",
    "staffing",
    "approvals",
    "compliance",
    "supervision",
    "imports",
    "exports",
    "audit",
    "lianhu.apps.AxesConfig",  # django-axes, under a Chinese name in the admin
    "ops",
    "ui",
]

MIDDLEWARE = [
    # First: /healthz answers before host checks, sessions or anything that may touch the database.
    "ops.middleware.HealthzMiddleware",
    # A request id for every log line of the request (X-Request-ID from nginx, else a new one).
    "log_request_id.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The 30-minute idle timeout: the session's expiry pushed forward at most once a minute.
    "accounts.middleware.IdleTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The user's groups, permissions and units from a cached snapshot instead of 4–7 queries on every page.
    "accounts.middleware.AccessMiddleware",
    # request.user.is_verified(): whether this session has given a second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A password someone else chose must be replaced before any other page; administrators and reviewers give
    # a second factor before any page where LIANHU_REQUIRE_2FA is on.
    "accounts.middleware.AccountGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Who and from where for the security log; records every download as an export.
    "audit.middleware.SecurityAuditMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lianhu.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "communities.context_processors.user_scope",
            ],
            # {{ n|num }} and {{ a|area }} in every template (lianhu/numbers.py); dates as YYYY-MM-DD without
            # DateFormat's cost (lianhu/dates.py, after Django's own filters so its ``date`` is the one used).
            # {% url %} reversed once per process (lianhu/urltags.py, likewise after Django's own).
            "builtins": ["lianhu.numbers", "lianhu.dates", "lianhu.urltags"],
        },
    },
]

WSGI_APPLICATION = "lianhu.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'lianhu.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default serves one clerk at a time; waiting beats "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
    # A community's rights are its 街办's (communities.selectors); has_perm(perm, community) says so too.
    "communities.backends.StreetScopeBackend",
]
# No guardian anonymous user: anonymous visitors see nothing but the login page.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

AUTH_PASSWORD_VALIDATORS = [
    # The project's subclasses of Django's similarity and length rules: the same rules, messages in Chinese.
    {"NAME": "accounts.validators.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "accounts.validators.CommonPasswordValidator"},
    {"NAME": "accounts.validators.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
]

# 等保2.0 level 3: five wrong passwords lock that user at that address for 30 minutes.
from datetime import timedelta  # noqa: E402

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_RESET_ON_SUCCESS = True
# Trusted reverse proxies in front of gunicorn (the documented nginx is one). Each writes the address it was
# reached from into X-Forwarded-For; the client is the N-th entry from the right, and with 0 the header is
# ignored. The lockout and the security log both take the address from accounts.network.client_address.
LIANHU_PROXY_COUNT = max(env.int("DJANGO_PROXY_COUNT", default=0), 0)
AXES_CLIENT_IP_CALLABLE = "accounts.network.client_address"

# Sessions end after 30 minutes without a request (29 to 30: accounts.middleware.IdleTimeoutMiddleware pushes
# the expiry at most once a minute) and when the browser closes.
SESSION_COOKIE_AGE = 1800
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Security events are kept at least this long (security_events_purge refuses fewer than 180 days).
AUDIT_RETENTION_DAYS = max(env.int("AUDIT_RETENTION_DAYS", default=180), 180)

# 等保2.0 level 3 asks two kinds of authentication of privileged accounts: administrators (staff) and
# 区民政局审核员 sign in with a password and a code from an authenticator app (or a one-time recovery code).
# On by default in production; off under DJANGO_DEBUG so the public demo logins of `make run` work with a
# password alone (a demo user who sets up an authenticator is asked for codes from then on).
LIANHU_REQUIRE_2FA = env.bool("LIANHU_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = "莲湖区社区管理系统"
# The admin lists devices for removal (a lost phone) but shows no one's secret key, QR code or recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# zh_Hans catalogue of third-party strings (django-filter ships zh_CN only, django-axes none): locale/.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Read when the settings load, not when the middleware starts: the test runner turns DEBUG off after that, and
# WhiteNoise would then index every collected static file again for each test client (6% of the suite's CPU on
# a machine where collectstatic had run). Production (DEBUG off) indexes them once per process, as before.
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "/media/"
# Exports above this many rows are written by a Celery worker (我的导出) instead of inside the request.
EXPORT_STREAM_MAX_ROWS = env.int("EXPORT_STREAM_MAX_ROWS", default=20_000)

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="莲湖区民政局 <noreply@lianhu.local>")

# Celery: with no broker configured every task runs eagerly in-process, so one
# command serves the whole app on a fresh machine.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# With a real broker a page's save re-judges its rules in a worker (the page says results are pending);
# eager mode judges in the request as before.
COMPLIANCE_REJUDGE_ASYNC = env.bool("COMPLIANCE_REJUDGE_ASYNC", default=not CELERY_TASK_ALWAYS_EAGER)
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A sweep splits the communities into this many pk ranges, one Celery task each (enough for a few workers).
COMPLIANCE_SWEEP_CHUNKS = env.int("COMPLIANCE_SWEEP_CHUNKS", default=8)
# …but no fewer communities than this in a chunk: a district of 142 is judged in one (each chunk runs every rule).
COMPLIANCE_SWEEP_MIN_CHUNK = env.int("COMPLIANCE_SWEEP_MIN_CHUNK", default=1000)
# The beat schedule lives here and nowhere else.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE: dict = {
    # Every rule over every target, as of the new day (CELERY_TIMEZONE is Asia/Shanghai).
    "compliance-nightly-sweep": {"task": "compliance.nightly_sweep", "schedule": crontab(hour=2, minute=0)},
    # Beat's pulse for the status check (ops/health.py reads the time it last ran).
    "ops-heartbeat": {"task": "ops.heartbeat", "schedule": 60.0},
    # Retention (ops/retention.py): after the nightly sweep and the 03:00 backup.
    "ops-purge": {"task": "ops.purge", "schedule": crontab(hour=4, minute=30)},
}

# Production sets a Redis cache so the web processes see the import progress a
# Celery worker reports; the per-process default is enough for one process.
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="locmemcache://")}
# Sessions live in the database. A cache in front of it ("cached_db") spares every page the session's read
# where every process sees the same cache: the shared Redis cache (set below), or the one process of make run
# and make test (DJANGO_DEBUG). A per-process cache in front of several gunicorn workers would let a session
# signed out in one worker live on in the others, so there the database alone holds them.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if DEBUG else "django.contrib.sessions.backends.db"

# Content Security Policy: our own static files only; no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- Operations (ops/): site address, error reports, logs, health ------------------------------------------
from email.utils import parseaddr  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

# The site's address for links in mail (the sweep digest); required with debug off (deploy check ops.E001).
SITE_URL = env.str("DJANGO_SITE_URL", default=env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else ""))
SITE_URL = SITE_URL.rstrip("/")
if SITE_URL and not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("DJANGO_SITE_URL 须以 http:// 或 https:// 开头，例如 https://shequ.lianhu.gov.cn")

# Who gets the mail for a 500 and for a failed Celery task: "名字 <a@b>, c@d".
ADMINS = [(parseaddr(a)[0] or parseaddr(a)[1], parseaddr(a)[1]) for a in env.list("DJANGO_ADMINS", default=[])]
SERVER_EMAIL = env.str("DJANGO_SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)

# A database or broker on a dead address must not hold a request (or /healthz) for long.
if not DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DJANGO_DB_CONNECT_TIMEOUT", default=2))

# Worker logs go through LOGGING below (redaction, JSON) instead of Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOG_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
GENERATE_REQUEST_ID_IF_NOT_IN_HEADER = True
REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"
NO_REQUEST_ID = "-"

# json in production (one object a line, for the journal and log shippers), plain under `make run`.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT 只能是 plain 或 json")
_LOG_FILTERS = ["request_id", "redact_id_numbers"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "ops.redaction.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
            # With the offset: gunicorn logs before Django sets TZ (UTC), the application after (Asia/Shanghai).
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
    },
    "filters": {
        "request_id": {"()": "log_request_id.filters.RequestIDFilter"},
        # ID numbers (居民身份证号) never reach a log line or an administrator's mail: the filter masks them.
        "redact_id_numbers": {"()": "staffing.logfilters.RedactIdNumbers"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": _LOG_FILTERS},
        "mail_admins": {
            "class": "ops.redaction.RedactingAdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", *_LOG_FILTERS],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own defaults (an unfiltered mail_admins and console on "django", runserver's access log on
        # "django.server") are replaced, so that every line passes the filters above.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # A 500 mails ADMINS (and still reaches the console through the root logger).
        "django.request": {"handlers": ["mail_admins"], "level": "ERROR", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # django-axes says INFO on every login; the security log (audit) records logins itself.
        "axes": {"level": "WARNING"},
    },
}
# Under `make run` the security log (one line per login, grant and command: hundreds while the demo loads) goes
# to its own file, so the terminal keeps the demo's progress and the demo accounts; production keeps the console.
SECURITY_LOG_FILE = env.str("DJANGO_SECURITY_LOG_FILE", default=str(BASE_DIR / "var" / "log" / "security.log")
                            if DEBUG else "")
if SECURITY_LOG_FILE:
    Path(SECURITY_LOG_FILE).parent.mkdir(parents=True, exist_ok=True)
    LOGGING["handlers"]["security_file"] = {  # type: ignore[index]
        "class": "logging.FileHandler", "filename": SECURITY_LOG_FILE, "encoding": "utf-8", "delay": True,
        "formatter": LOG_FORMAT, "filters": _LOG_FILTERS,
    }
    LOGGING["loggers"]["lianhu.security"] = {  # type: ignore[index]
        "handlers": ["security_file"], "level": "INFO", "propagate": False,
    }

# Optional error reporting to a self-hosted Sentry on the intranet; nothing is sent without a DSN.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from ops.sentry import init_sentry

    init_sentry(SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default="production"))

# -- Faults: Redis, the broker and a killed worker (issue 14; docs/deployment.md「故障与恢复」) -----------------
# A Redis outage costs speed, not logins: the cache answers a miss when Redis is gone (lianhu.cache), and
# sessions live in the database with the cache in front ("cached_db"), so nobody is signed out by a restart.
# The access snapshot (accounts.access) is kept from one request to the next only in a cache every process
# shares, or under DJANGO_DEBUG (one process: make run, make test): with a per-process cache and several
# gunicorn workers, a role taken away in one process would still be held in another.
ACCESS_SNAPSHOT_SHARED = DEBUG or "redis" in CACHES["default"]["BACKEND"].lower()
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "lianhu.cache.ForgivingRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": env.float("DJANGO_CACHE_TIMEOUT", default=1.0),
         "socket_timeout": env.float("DJANGO_CACHE_TIMEOUT", default=1.0)})
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# A request that queues a task asks the broker once and briefly (lianhu.queue): the page then says the queue is
# unavailable in a second or two instead of a 500 after 19 s.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_TIMEOUT", default=2.0)
# A task killed with its worker (SIGKILL, OOM, a lost machine) was never acknowledged (acks_late, above): Redis
# hands it to a live worker once the visibility timeout has passed. It must be longer than the longest task (a
# large import: minutes), or Redis hands a still-running task to a second worker; a redelivered import or sweep
# chunk that finds another worker's fresh heartbeat leaves it alone.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=900)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "socket_timeout": max(CELERY_BROKER_CONNECTION_TIMEOUT, 5.0),
    # How often a worker looks for messages whose visibility timeout ran out (kombu: interval × throttle).
    "unacked_restore_interval": min(10, max(1, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5},
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CELERY_BROKER_CONNECTION_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = max(CELERY_BROKER_CONNECTION_TIMEOUT, 5.0)
# A sweep or an import shows it is alive by a heartbeat; with none for this long its worker is taken as dead and
# a new sweep (or the redelivered task) takes over. Longer than the visibility timeout, so the redelivered
# chunk normally finishes the sweep itself.
COMPLIANCE_SWEEP_LEASE_SECONDS = env.int("COMPLIANCE_SWEEP_LEASE_SECONDS", default=CELERY_VISIBILITY_TIMEOUT + 300)
# An import's heartbeat comes from a thread of its own every quarter lease, whatever the import is doing, so the
# lease can be short: a redelivered import takes over a minute after its worker died.
IMPORT_LEASE_SECONDS = env.int("IMPORT_LEASE_SECONDS", default=60)
# A NUL byte or an over-long query string answers 400 before any view, filter or export reads it.
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "lianhu.middleware.RejectMalformedQueryMiddleware")
