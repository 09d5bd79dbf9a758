"""App configuration of the API."""

from django.apps import AppConfig
from django.urls import register_converter


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from api.fields import IdConverter

        # ``<id:...>`` in api/urls.py and api/routing.py: ids of bounded length (``int`` takes any).
        register_converter(IdConverter, "id")
