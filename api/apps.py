"""App configuration of the API."""

from django.apps import AppConfig
from django.urls import register_converter


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from api.fields import IdConverter, NameConverter

        # ``<id:...>`` and ``<name:...>`` in api/urls.py and api/routing.py: ids and names of bounded length.
        register_converter(IdConverter, "id")
        register_converter(NameConverter, "name")
