"""One settings module for every environment, read from environment variables.

Defaults run the service on a fresh machine: an embedded PostgreSQL when DATABASE_URL is unset,
Celery tasks run eagerly when REDIS_URL is unset, and mail is written to files when EMAIL_URL is unset.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"  # git-ignored: embedded database, mail files

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# The development key is public (it is in the repository): anyone could sign sessions, password-reset and
# verification links with it. Without DEBUG the process refuses to start on it, so `check --deploy` fails too.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: with DJANGO_DEBUG=false the service needs its own secret key. Generate "
            "one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "import_export",
    "axes",
    "django_celery_beat",
    "companies",
    "matchmaking",
    "events",
    "seeds",
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = env("DJANGO_ROOT_URLCONF", default="config.urls")
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if "DATABASE_URL" in env:
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from config.embedded_db import embedded_database

    DATABASES = {"default": embedded_database(LOCAL_DIR / "pgdata")}
if "DATABASE_NAME" in env:  # another database on the same server (a test suite's worker uses its test database)
    DATABASES["default"]["NAME"] = env("DATABASE_NAME")
# Connections kept a minute (checked before reuse): a new PostgreSQL connection per request costs more than
# a directory page's queries.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
# A lock-out holds one username at one client address: locking by username alone let anyone lock anyone out,
# and by address alone one office (or one proxy) locked all its users out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The cool-off counts from the failure that locked, not from the latest attempt during the lock-out.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "my-profile"
LOGOUT_REDIRECT_URL = "home"
EMAIL_VERIFICATION_MAX_AGE_DAYS = env.int("EMAIL_VERIFICATION_MAX_AGE_DAYS", default=3)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("vi", _("Vietnamese")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # DRF's JSON, written by orjson (companies/renderers.py), and its browsable API.
    "DEFAULT_RENDERER_CLASSES": [
        "companies.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # DRF's defaults, with a JSON parser that answers a body nested thousands deep with a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "companies.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/min"),
        "user": env("API_THROTTLE_USER", default="600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SME Match API",
    "DESCRIPTION": "Company profiles of Vietnamese and Russian SMEs for business matchmaking.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "companies.models.Language",
        "CooperationFormEnum": "companies.models.CooperationForm",
        "ConsentPurposeEnum": "companies.models.ConsentPurpose",
        "CountryEnum": "companies.models.Country",
        "StatusEnum": "companies.models.Company.Status",  # stays the name it had before matches came
        "MatchAnswerEnum": "matchmaking.models.Match.Response",
        "MatchOutcomeEnum": "matchmaking.models.Match.Outcome",
        "MyMatchStatusEnum": "matchmaking.serializers.MEMBER_STATUS_CHOICES",
        "EventStatusEnum": "events.models.Event.Status",
        "ParticipantStatusEnum": "events.models.Participant.Status",
        "MeetingRequestStatusEnum": "events.models.MeetingRequest.Status",
        "ParticipantRoleEnum": "events.models.Participant.Role",
    },
}

# --- Cache (throttling counters, per-request work) ---------------------------------------------
# Its own setting, apart from the broker, so clearing the cache can never flush Celery's queues.
CACHES = {
    "default": env.cache("CACHE_URL")
    if "CACHE_URL" in env
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Celery ----------------------------------------------------------------------------------
# Every task is idempotent, so a message is acknowledged only after its task finished (a worker that dies
# mid-task gets it redelivered) and each worker process reserves one message at a time.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # no broker: run tasks in-process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1800)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT - 60)
# Redis hands an unacknowledged message to another worker after visibility_timeout, whether or not its task
# still runs: it must exceed the longest task (time limit) and the longest retry countdown.
CELERY_BROKER_TRANSPORT_OPTIONS = env.json(
    "CELERY_BROKER_TRANSPORT_OPTIONS", default={"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Mail ------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SME Match <no-reply@sme-match.example>")
if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = LOCAL_DIR / "mail"

# --- Behind a reverse proxy ------------------------------------------------------------------
# How many reverse proxies in front of the service append the client's address to X-Forwarded-For; 0 means
# clients connect directly and REMOTE_ADDR is their address. Log-in lock-outs and the sign-up, log-in and reset
# rate limits count per client address (config/proxies.py). Too high a number lets clients forge their address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "config.proxies.client_ip"
RATELIMIT_IP_META_KEY = "config.proxies.client_ip"

# --- Production hardening (DJANGO_DEBUG=false) ---------------------------------------------------
if not DEBUG:
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Digests ---------------------------------------------------------------------------------
# Absolute links in emails (unsubscribe, answers, claiming a profile) start with this.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DIGEST_UNSUBSCRIBE_MAILTO = env("DIGEST_UNSUBSCRIBE_MAILTO", default="unsubscribe@sme-match.example")
# An introduction left unanswered this long expires; the weekly digests remind of it at most twice before.
DIGEST_INTRODUCTION_EXPIRY_DAYS = env.int("DIGEST_INTRODUCTION_EXPIRY_DAYS", default=21)
DIGEST_MAX_REMINDERS = 2
# Retries of any email the mail server refused (digests, introductions, agendas, publication notices;
# companies.mail.retry_refused): exponential backoff from BASE seconds, capped at MAX.
DIGEST_RETRY_BACKOFF_BASE = env.float("DIGEST_RETRY_BACKOFF_BASE", default=30.0)
DIGEST_RETRY_BACKOFF_MAX = env.float("DIGEST_RETRY_BACKOFF_MAX", default=600.0)
DIGEST_MAX_RETRIES = env.int("DIGEST_MAX_RETRIES", default=8)
# When another worker is sending the same digest right now, look again after this many seconds.
DIGEST_BUSY_RETRY_SECONDS = env.float("DIGEST_BUSY_RETRY_SECONDS", default=30.0)
# Links that act for a recipient (answer an introduction, claim a profile) stop working after this long.
DIGEST_LINK_MAX_AGE_DAYS = env.int("DIGEST_LINK_MAX_AGE_DAYS", default=30)

# --- Domain ----------------------------------------------------------------------------------
# Text version of the consent a company gives; bump it when the wording changes.
CONSENT_VERSION = env("CONSENT_VERSION", default="2026-11")
# Longest offer or need text, in characters (documented in the README and the API schema).
LISTING_TEXT_MAX_LENGTH = 2000
# Recompute a firm's match suggestions (a Celery task, after the commit) when its profile changes.
MATCHING_RECOMPUTE_ON_SAVE = env.bool("MATCHING_RECOMPUTE_ON_SAVE", default=True)
# A worker process keeps the ranking's vectors between recomputes of edited firms once the market has this
# many published firms (below it, reading every profile again is quick), for at most MAX_AGE seconds.
MATCHING_INDEX_MIN_FIRMS = env.int("MATCHING_INDEX_MIN_FIRMS", default=5000)
MATCHING_INDEX_MAX_AGE = env.int("MATCHING_INDEX_MAX_AGE", default=3600)
# Threads of the embedding model in each process; 0: every core, right for one process (`embed_texts`). Set 1
# on Celery workers that run one pool process per core (`celery worker -c 2` on 2 cores), so that the processes
# do not fight over the cores (bench/embed_queue.py). The model's OpenMP runtime reads OMP_NUM_THREADS once,
# when it loads, so this sets it for the process (an OMP_NUM_THREADS already set wins).
MATCHING_MODEL_THREADS = env.int("MATCHING_MODEL_THREADS", default=0)
if MATCHING_MODEL_THREADS:
    env.ENVIRON.setdefault("OMP_NUM_THREADS", str(MATCHING_MODEL_THREADS))
# The directory's search by meaning (page ?q= and API ?search=): a function of the search text returning the
# ids of the firms it finds, best first, or None to search lexically. companies names it here rather than
# importing matchmaking; empty: lexical search only.
DIRECTORY_SEARCH = env("DIRECTORY_SEARCH", default="matchmaking.directory_search.search_directory")
# A suggestion counts as confident from this calibrated confidence (0–1) up; a firm with none is listed in the
# admin as needing a better profile. 0.15 on the development sets: no firm of the first set without a real
# counterpart reaches it, and 90 % of its labelled partners do (bench/matching_quality.py).
MATCHING_MIN_CONFIDENCE = env.float("MATCHING_MIN_CONFIDENCE", default=0.15)
# The chamber dashboard's figures are kept this many seconds per chamber and week (0: computed on every view);
# at a million matches computing them takes longer than a page should (bench/admin_pages.py).
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=300)
# Seconds the API directory's pages for anonymous readers are kept (companies/directory_cache.py; 0: off). Any
# change of what they show drops them at once; the time only bounds changes that send no signal (bulk writes).
DIRECTORY_CACHE_SECONDS = env.int("DIRECTORY_CACHE_SECONDS", default=60)

# --- B2B events ------------------------------------------------------------------------------
# Seconds the exact solver may spend improving an event's schedule when staff press "build schedule": with
# reading and writing, 300 firms and 1,500 requests take about 7 s (bench/event_schedule.py; 8 s placed no more).
EVENT_SCHEDULE_SECONDS = env.float("EVENT_SCHEDULE_SECONDS", default=5.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
