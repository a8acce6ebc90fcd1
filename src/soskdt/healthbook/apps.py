from django.apps import AppConfig


class HealthbookConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "soskdt.healthbook"
    label = "healthbook"

    def ready(self) -> None:
        from soskdt.healthbook import receivers  # noqa: F401 - connects the signal receivers
