"""Django settings for SoSKDT, read from environment variables.

DATABASE_URL   default sqlite:///<root>/var/soskdt.sqlite3; postgres://user@host:port/name for PostgreSQL
SECRET_KEY     default: generated once and kept in <root>/var/secret_key (never committed)
ALLOWED_HOSTS  comma-separated, default "127.0.0.1,localhost,testserver"
SOSKDT_LANGUAGE default "vi"
SOSKDT_DEBUG   "1" for debug pages (the run script sets it for the local demo)
SOSKDT_PG_PREPARE_THRESHOLD  default 5: PostgreSQL statements of server-binding cursors are prepared
               from that run on a connection; empty to disable (connection poolers without support)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(os.environ.get("SOSKDT_HOME", Path(__file__).resolve().parents[2]))
VAR_DIR = Path(os.environ.get("SOSKDT_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        # Written once with owner-only permissions; losing it only logs everybody out.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("SOSKDT_DEBUG", "0") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "soskdt.core",
    "soskdt.registry",
    "soskdt.identity",
    "soskdt.wallet",
    "soskdt.healthbook",
    "soskdt.ingestion",
    "soskdt.sharing",
    "soskdt.rollout",
    "soskdt.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "soskdt.urls"
WSGI_APPLICATION = "soskdt.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{VAR_DIR / 'soskdt.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE lets the web server and the task worker share the file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # Statements that run through a server-binding cursor (core.sqlbatch.prepared_cursor: the book's hot
    # reads, API-token lookups) are prepared from their 5th run on a connection, so PostgreSQL plans them
    # once. Django disables this by default for connection poolers; set "" behind PgBouncer < 1.21.
    threshold = os.environ.get("SOSKDT_PG_PREPARE_THRESHOLD", "5")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        int(threshold) if threshold else None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["soskdt.identity.backends.ThrottledModelBackend"]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "/"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "soskdt.identity.passwords.VneidPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("SOSKDT_LANGUAGE", "vi")
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Serve app static files straight from the apps (no collectstatic step): the run command has no web server.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
ARCHIVE_ROOT = Path(os.environ.get("SOSKDT_ARCHIVE_DIR", VAR_DIR / "archive"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("SOSKDT_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

EMAIL_BACKEND = os.environ.get("SOSKDT_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = "SoSKDT <no-reply@soskdt.local>"

# Product rules, overridable per deployment.
SOSKDT = {
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(os.environ.get("SOSKDT_LOGIN_MAX_FAILURES_PER_ACCOUNT", "5")),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": int(os.environ.get("SOSKDT_LOGIN_MAX_FAILURES_PER_ADDRESS", "20")),
    "LOGIN_LOCK_SECONDS": int(os.environ.get("SOSKDT_LOGIN_LOCK_SECONDS", "900")),
    "API_TOKEN_LIFETIME_SECONDS": int(os.environ.get("SOSKDT_API_TOKEN_LIFETIME_SECONDS", str(12 * 3600))),
    "MIN_APP_VERSION": "2.0.4",
    "WEB_CLIENT_VERSION": "2.1.0",
    # Health book (docs/healthbook.md): passcode lockout, book tokens, passcode-reset OTP by SMS.
    "PASSCODE_MAX_FAILURES": int(os.environ.get("SOSKDT_PASSCODE_MAX_FAILURES", "5")),
    "PASSCODE_LOCK_SECONDS": int(os.environ.get("SOSKDT_PASSCODE_LOCK_SECONDS", "900")),
    "BOOK_TOKEN_LIFETIME_SECONDS": int(os.environ.get("SOSKDT_BOOK_TOKEN_LIFETIME_SECONDS", "900")),
    "PASSCODE_OTP_LIFETIME_SECONDS": int(os.environ.get("SOSKDT_PASSCODE_OTP_LIFETIME_SECONDS", "300")),
    "SMS_BACKEND": os.environ.get("SOSKDT_SMS_BACKEND", "soskdt.healthbook.sms.ConsoleSmsBackend"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "soskdt": {"handlers": ["console"], "level": os.environ.get("SOSKDT_LOG_LEVEL", "INFO")},
    },
}
