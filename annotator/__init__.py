"""The Django project package and the domain core: layout, geometry, metrics, models, services."""
