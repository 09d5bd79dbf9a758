"""``python manage.py serve``: the web server (uvicorn: HTTP and websockets over ASGI) as ``make serve``, the demo
and the documented deployment run it.

Requests are served concurrently: each web process runs Django's synchronous views in ``DJANGO_WEB_THREADS``
threads (``annotator.asgi_handler``), and with ``REDIS_URL`` set several processes share the port
(``DJANGO_WEB_WORKERS``, default one per core plus one, at most 4). Without Redis there is one process:
the in-memory channel layer that carries websocket events lives inside it, and a second process would not
hear them. The server never trusts proxy headers itself (``DJANGO_NUM_PROXIES`` decides, in the app), and
caps websocket messages before the app's own JSON limits see them.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotator.conf import option

#: The most web processes ``auto`` picks (each holds a few hundred MB: Django, numpy, torch).
MAX_AUTO_WORKERS = 4


def default_workers() -> int:
    """Web processes when none are asked for: one per core plus one (at most 4) with Redis, else one."""
    if not settings.REDIS_URL:
        return 1
    return max(1, min(MAX_AUTO_WORKERS, (os.cpu_count() or 1) + 1))


class Command(BaseCommand):
    help = "Serve the app (HTTP, websockets) with uvicorn: threads in each process, several processes with Redis."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=None,
            help="web processes (default: DJANGO_WEB_WORKERS, else with REDIS_URL 1 per core + 1, at most 4; else 1)",
        )  # fmt: skip
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args, **options):
        import uvicorn

        workers = options["workers"] or option("WEB_WORKERS") or default_workers()
        if workers < 1:
            raise CommandError(f"--workers must be at least 1, got {workers}")
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                f"{workers} web processes need REDIS_URL: the in-memory channel layer (websocket events) lives in "
                "one process. Set REDIS_URL, or serve with one process (its requests still run concurrently, in "
                f"{option('WEB_THREADS')} threads)."
            )
        self.stdout.write(
            f"serving on http://{options['host']}:{options['port']}/ with {workers} process(es) x "
            f"{option('WEB_THREADS')} threads"
        )
        uvicorn.run(
            "annotator.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=workers,
            # The client's address is the TCP peer unless DJANGO_NUM_PROXIES says otherwise (api/throttling.py).
            proxy_headers=False,
            server_header=False,
            # Far above what the app accepts (WEBSOCKET_MESSAGE_MAX_BYTES), so it can answer with a reason.
            ws_max_size=max(65536, 16 * option("WEBSOCKET_MESSAGE_MAX_BYTES")),
            lifespan="off",
            access_log=options["access_log"],
            timeout_graceful_shutdown=10,
        )
