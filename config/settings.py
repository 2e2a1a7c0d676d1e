"""Settings, read from the environment.

Defaults give a working development site on an embedded SQLite database with Celery tasks
run in-process. Production sets DATABASE_URL (PostgreSQL), REDIS_URL (Celery broker),
DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
TESTING = env_bool("DJANGO_TESTING", False)
# A real deployment (debug off, not the test suite): HTTPS-only defaults, each switchable below.
PRODUCTION = not DEBUG and not TESTING


def _local_secret_key() -> str:
    """A random key kept in var/secret_key, for a single machine without DJANGO_SECRET_KEY.

    Servers that share sessions (several gunicorn hosts) must set DJANGO_SECRET_KEY instead.
    """
    path = BASE_DIR / "var" / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    SECRET_KEY = "test-only-key" if TESTING else _local_secret_key()
# What Django's deployment check (security.W009) accepts: 50 characters or more, at least 5 different ones, not
# the "django-insecure-" prefix of a generated development key.
if not TESTING and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY 不合格：至少 50 个字符、至少 5 种不同字符，且不以 django-insecure- 开头。"
        "可用 python3 -c 'import secrets; print(secrets.token_urlsafe(50))' 生成。"
    )

ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "axes",
    "django_celery_beat",
    "accounts",
    "audit",
    "imports",
    "recipients",
    "applications",
    "settlements",
    "payouts",
    "supervision",
    "reports",
    "subsidies",
    "followups",
    "monitoring",
    "insurers",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "lib.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the user is known (its page is rendered with the navigation), before any view runs a query.
    "lib.middleware.RejectControlCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes last: it needs the authenticated user and answers locked-out logins itself.
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
                "accounts.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        # Tests: no persistent connections, so worker threads leave none open on the test database.
        conn_max_age=0 if TESTING else int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Imports hold a write transaction for a few seconds; other writers wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and security ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.NotContainingUserNameValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the session expires this many minutes after the last request.
SESSION_IDLE_TIMEOUT_MINUTES = int(os.environ.get("SESSION_IDLE_TIMEOUT_MINUTES", "30"))
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS: redirect plain HTTP, and tell browsers to use HTTPS only (HSTS), by default in production.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
# Behind the reverse proxy that terminates TLS (which must set X-Forwarded-Proto itself, replacing any the
# client sent): requests it forwards as https are https.
if env_bool("DJANGO_PROXY_SSL_HEADER", PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Lock an account after repeated failures. Township offices share one public address,
# so the lock is per user name, not per address.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Per-address locking would lock a whole township office behind one NAT address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

AUDIT_TRUST_X_FORWARDED_FOR = env_bool("AUDIT_TRUST_X_FORWARDED_FOR", False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script anywhere (behaviour is in static/js; data in json_script blocks): a name typed into 系统管理
# can never run as script. Inline styles stay allowed (progress bars, timelines).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Locale ---------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploads ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Roster files are stored in the database (several workers, no shared disk needed).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ROSTER_MAX_UPLOAD_BYTES = int(os.environ.get("ROSTER_MAX_UPLOAD_MB", "50")) * 1024 * 1024
# Generated reports are kept for download this many days.
REPORT_KEEP_DAYS = int(os.environ.get("REPORT_KEEP_DAYS", "7"))
# Counts over a whole county's rows (the home page's registry figures, the settlement browser's hospitals) are
# kept this many seconds, unless an import or a new row shows at once that they changed (lib.cached).
SUMMARY_CACHE_SECONDS = int(os.environ.get("SUMMARY_CACHE_SECONDS", "3600"))
# The dashboard's figures are computed again by a worker once they are this many seconds old (the older ones shown
# meanwhile); a summary refresh is shown at once.
DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "60"))
# 二次救助预警: people whose yearly burden is within this many yuan below the threshold.
SECONDARY_WARNING_DISTANCE = os.environ.get("SECONDARY_WARNING_DISTANCE", "1000")
# 公示名单: the days a notice stays posted (公示期, from the notice date), the 监督电话 printed on it (empty: a line
# to fill in by hand), and the issuing office (empty: the county's 医疗保障局).
PUBLIC_NOTICE_DAYS = max(1, int(os.environ.get("PUBLIC_NOTICE_DAYS", "7")))
PUBLIC_NOTICE_PHONE = os.environ.get("PUBLIC_NOTICE_PHONE", "")
PUBLIC_NOTICE_ISSUER = os.environ.get("PUBLIC_NOTICE_ISSUER", "")
# What an uploaded spreadsheet may hold (checked before it is read): columns, cells of the grid the .xlsx
# reader allocates (about 30 bytes each), and the size of an .xlsx once unzipped.
IMPORT_MAX_COLUMNS = int(os.environ.get("IMPORT_MAX_COLUMNS", "256"))
IMPORT_MAX_CELLS = int(os.environ.get("IMPORT_MAX_CELLS", "40000000"))
IMPORT_MAX_UNCOMPRESSED_MB = int(os.environ.get("IMPORT_MAX_UNCOMPRESSED_MB", "1024"))
# A month of a county's settlements as CSV is about 15 MB per 100,000 rows.
SETTLEMENT_MAX_UPLOAD_BYTES = int(os.environ.get("SETTLEMENT_MAX_UPLOAD_MB", "300")) * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # no broker configured: run tasks in-process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# Tasks are idempotent: acknowledged when done, and put back on the queue when the worker running them is lost
# (killed, out of memory), so another worker runs them again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker died without giving it back (the whole host lost) is delivered again after this long;
# a job still running then is found holding its lock, and the second delivery waits for it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "900"))}
# Each worker child may use at most this much memory (address space): a runaway task fails with MemoryError
# instead of taking the host down. Children are also replaced after a task that grew them past 3/4 of it.
WORKER_MEMORY_LIMIT_MB = int(os.environ.get("WORKER_MEMORY_LIMIT_MB", "4096"))
CELERY_WORKER_MAX_MEMORY_PER_CHILD = WORKER_MEMORY_LIMIT_MB * 1024 * 3 // 4  # in KB
# The cross-check and the secondary trigger run in chunks of about this many people, one chunk per task: a
# worker's memory depends on this, not on the size of the tables, and every worker takes chunks.
JOB_CHUNK_PEOPLE = int(os.environ.get("JOB_CHUNK_PEOPLE", "10000"))
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic jobs for `celery beat`: declared in config/schedules.py, kept in the database (django-celery-beat)
# so that the admin can change their times in the portal.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Cache (lib.cached: figures over a whole county's rows) --------------------------------------------
# With Redis (production) the web workers share one cache, so each figure is computed once for all of them, not
# once per gunicorn worker; without it (make run, the tests) each process keeps its own. DJANGO_CACHE_URL puts
# the cache in another Redis database than the broker's.
CACHE_URL = os.environ.get("DJANGO_CACHE_URL", REDIS_URL)
if CACHE_URL and not TESTING:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("DJANGO_CACHE_PREFIX", "medaid"),
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
