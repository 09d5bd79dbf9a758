"""Everything the project needs to run; ``dev``, ``test`` and ``prod`` import this and override a few values.

Configuration comes from the environment (``DJANGO_*`` for Django itself, plus the conventional
``DATABASE_URL`` and ``REDIS_URL``). Without them the project runs on embedded defaults: SQLite under
``var/``, an in-memory channel layer and the database task queue. With ``REDIS_URL`` it switches the
channel layer to Redis and the task backend to RQ; code never branches on which is configured.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from annotator.settings.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("DJANGO_VAR_DIR", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-development-key-do-not-use-in-production")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks",
    "annotator",
    "api",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "annotator.urls"
ASGI_APPLICATION = "annotator.asgi.application"
WSGI_APPLICATION = "annotator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "annotator.context_processors.role",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user:pass@host:port/name), else a SQLite file under var/.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        # Each web thread keeps its connection this long (checked before every request: CONN_HEALTH_CHECKS), so
        # a request does not pay for a new PostgreSQL connection.
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite creates the file but not its directory; on a fresh clone var/ does not exist yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The web process and the task worker write concurrently: WAL lets readers go on during a write,
    # IMMEDIATE transactions take the write lock up front instead of failing on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files from the app directories without a collectstatic step (the demo and tests);
# prod turns this off and serves the collected, compressed files.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exception_handlers.exception_handler",
    # JSON bodies are parsed with a size, depth and value-count limit (api/parsers.py, annotator/jsonlimits.py).
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # One budget of password attempts per client address for the token endpoint and both sign-in pages
    # (api/throttling.py). DJANGO_TOKEN_THROTTLE is its former name.
    "DEFAULT_THROTTLE_RATES": {
        "password": env_str("DJANGO_PASSWORD_THROTTLE") or env_str("DJANGO_TOKEN_THROTTLE") or "20/min"
    },
    # Trusted proxies in front of the server: 0 (default) keys throttles on the TCP peer alone; n keys them on
    # the n-th address from the right of X-Forwarded-For (what the outermost trusted proxy saw).
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Multi-view whole-body keypoint annotation API",
    "DESCRIPTION": "Correct 2D whole-body keypoints over calibrated views, re-triangulate, review and export.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page are for signed-in users, like the rest of the API.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the installed sidecar package, not a CDN: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # ``<id:...>`` path ids and ``<name:...>`` names (api/fields.py IdConverter, NameConverter): 1 to 18 digits,
    # 1 to 100 slug characters.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
        "name": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "maxLength": 100},
    },
}

# Redis switches the websocket fan-out, the task queue and the cache (password throttles, shared by every
# web process) to their scale-out backends.
REDIS_URL = env_str("REDIS_URL") or None
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
else:
    INSTALLED_APPS += ["django_tasks_db"]
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Project options, read through annotator.conf.option().
ANNOTATOR = {
    # JSON read from a request (HTTP bodies, websocket messages): deepest nesting and most values accepted
    # (annotator/jsonlimits.py). The API's deepest body is 2 levels and its largest about 1,000 values.
    "JSON_MAX_DEPTH": env_int("DJANGO_JSON_MAX_DEPTH", 16),
    "JSON_MAX_ITEMS": env_int("DJANGO_JSON_MAX_ITEMS", 10_000),
    # Largest websocket message accepted from a browser, bytes (the editor sends {"action": "heartbeat"}).
    "WEBSOCKET_MESSAGE_MAX_BYTES": env_int("DJANGO_WEBSOCKET_MESSAGE_MAX_BYTES", 4096),
    # Web server (manage.py serve): threads per web process that run requests concurrently, and web processes
    # (0: one per core plus one with REDIS_URL, one without; several need Redis for the websocket events).
    "WEB_THREADS": env_int("DJANGO_WEB_THREADS", 8),
    "WEB_WORKERS": env_int("DJANGO_WEB_WORKERS", 0),
    # Where generated demo data and other working files go.
    "DATA_DIR": VAR_DIR / "data",
    # Largest disagreement (mm) between the 4 views of one H3WB instant before the importer warns.
    "IMPORT_VIEW_DISAGREEMENT_WARN_MM": 1.0,
    # Seconds after which a job chunk still "running" is presumed to belong to a dead worker on another
    # machine and may be claimed again (a dead worker on the same machine is noticed at once on restart).
    "JOB_STALE_AFTER_S": env_int("DJANGO_JOB_STALE_AFTER_S", 30 * 60),
    # Folder of the refiner checkpoints (face.pt, hand.pt) behind the editor's suggestions and the dashboard's
    # quality scoring; the repository ships trained ones (ml_services/checkpoints/README.md).
    "REFINER_CHECKPOINT_DIR": Path(
        env_str("DJANGO_REFINER_CHECKPOINT_DIR", str(BASE_DIR / "ml_services" / "checkpoints"))
    ).resolve(),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
