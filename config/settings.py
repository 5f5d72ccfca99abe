"""Settings for the MMC City Engagement CRM.

One file, driven by environment variables. Every variable has a safe development default, so
`make run` works on a bare machine (SQLite, Celery on a local filesystem broker, emails written
to files). The README lists every variable and the production values.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DJANGO_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# The public address of the site, used for links in emails (reminders, unsubscribe).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "import_export",
    "simple_history",
    "axes",
    "crm",
    "cities",
    "engagements",
    "pledges",
    "outreach",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "crm.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database: SQLite unless DATABASE_URL is set (PostgreSQL in production and CI) ---
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # Search's typo tolerance (crm.search): "frietown" finds Freetown when the two words share
    # 30 % of their trigrams (pg_trgm's own default for similarity; its word default is 0.6).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c pg_trgm.word_similarity_threshold=0.3"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "crm.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Failed-login throttling (django-axes) ---
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "0")) or None

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files: self-hosted, collected from node_modules by `make assets` ---
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email: files in var/mail by default, SMTP when EMAIL_HOST is set ---
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
else:
    EMAIL_BACKEND = os.environ.get(
        "EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
    )
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MMC CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery: Redis when REDIS_URL is set; otherwise a filesystem broker that needs no server ---
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Bounded waits: a web request that enqueues while Redis is down answers promptly.
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
        # A task claimed by a worker that dies is redelivered after this many seconds.
        "visibility_timeout": 3600,
    }
else:
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "crm")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "crm.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=30),
    },
    "scan-reminders": {
        "task": "outreach.tasks.scan_reminders",
        "schedule": crontab(minute="*/15"),
    },
}

# --- The CRM mailbox: emails BCC'd or forwarded to it become engagements (engagements.services) ---
# Any provider's IMAP account over TLS (implicit TLS, port 993); a username and password or an
# app password. Without CRM_INBOX_HOST nothing is polled.
CRM_INBOX_HOST = os.environ.get("CRM_INBOX_HOST", "")
CRM_INBOX_PORT = int(os.environ.get("CRM_INBOX_PORT", "993"))
CRM_INBOX_USERNAME = os.environ.get("CRM_INBOX_USERNAME", "")
CRM_INBOX_PASSWORD = os.environ.get("CRM_INBOX_PASSWORD", "")
# The mailbox's own address, so it never counts as a person on the message.
CRM_INBOX_ADDRESS = os.environ.get("CRM_INBOX_ADDRESS", "").strip().lower()
# A CA bundle to trust instead of the system's (a private CA); verification is never turned off.
CRM_INBOX_CA_FILE = os.environ.get("CRM_INBOX_CA_FILE", "")
CRM_INBOX_FOLDER = os.environ.get("CRM_INBOX_FOLDER", "INBOX")
CRM_INBOX_PROCESSED_FOLDER = os.environ.get("CRM_INBOX_PROCESSED_FOLDER", "CRM-processed")
CRM_INBOX_POLL_SECONDS = int(os.environ.get("CRM_INBOX_POLL_SECONDS", "60"))
CRM_INBOX_TIMEOUT = int(os.environ.get("CRM_INBOX_TIMEOUT", "60"))
# One poll at a time: a poll holds a lease in the database, renewed as it goes; a poll whose
# worker died is taken over once its lease has run out.
CRM_INBOX_LEASE_SECONDS = int(os.environ.get("CRM_INBOX_LEASE_SECONDS", "300"))
CRM_INBOX_BATCH_SIZE = int(os.environ.get("CRM_INBOX_BATCH_SIZE", "50"))
CRM_INBOX_ATTACHMENT_MAX_MB = float(os.environ.get("CRM_INBOX_ATTACHMENT_MAX_MB", "10"))
CRM_INBOX_ATTACHMENT_TYPES = [
    ext.lower().lstrip(".")
    for ext in env_list(
        "CRM_INBOX_ATTACHMENT_TYPES",
        "pdf,doc,docx,xls,xlsx,ppt,pptx,odt,ods,odp,rtf,txt,csv,png,jpg,jpeg,gif,eml,msg",
    )
]
if CRM_INBOX_HOST:
    CELERY_BEAT_SCHEDULE["poll-inbox"] = {
        "task": "engagements.tasks.poll_inbox",
        "schedule": CRM_INBOX_POLL_SECONDS,
        # A poll queued while no worker ran is pointless once the next one is due.
        "options": {"expires": CRM_INBOX_POLL_SECONDS},
    }

# --- Caches: "dashboard" is shared by every web process (Redis when set, else files in var/) ---
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "dashboard": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "crm",
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / "dashboard"),
        }
    ),
}
DASHBOARD_CACHE = "dashboard"
# How long computed dashboard figures may be reused (writes through the app refresh them at once).
DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "300"))

# --- Reminder thresholds (outreach rules) ---
REMINDER_TA_DUE_SOON_DAYS = int(os.environ.get("REMINDER_TA_DUE_SOON_DAYS", "3"))
REMINDER_TA_ESCALATE_DAYS = int(os.environ.get("REMINDER_TA_ESCALATE_DAYS", "7"))
REMINDER_PLEDGE_STALE_DAYS = int(os.environ.get("REMINDER_PLEDGE_STALE_DAYS", "182"))
REMINDER_BOARD_SEAT_DAYS = int(os.environ.get("REMINDER_BOARD_SEAT_DAYS", "60"))
REMINDER_EVENT_DEADLINE_DAYS = int(os.environ.get("REMINDER_EVENT_DEADLINE_DAYS", "14"))
# Delivery: a row stuck in "sending" this long (worker killed) is taken back by the next scan;
# a failing email is retried with exponential backoff (base × 2^attempt) up to a limit.
REMINDER_LEASE_SECONDS = int(os.environ.get("REMINDER_LEASE_SECONDS", "600"))
REMINDER_MAX_ATTEMPTS = int(os.environ.get("REMINDER_MAX_ATTEMPTS", "5"))
REMINDER_RETRY_BASE_SECONDS = int(os.environ.get("REMINDER_RETRY_BASE_SECONDS", "60"))
# Outreach campaigns: at most this many emails a minute, sent in one batch per minute.
CAMPAIGN_EMAILS_PER_MINUTE = int(os.environ.get("CAMPAIGN_EMAILS_PER_MINUTE", "60"))

# --- Import limits ---
IMPORT_MAX_UPLOAD_MB = int(os.environ.get("IMPORT_MAX_UPLOAD_MB", "20"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security: secure defaults whenever DEBUG is off ---
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Load balancers probe /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
