from django.apps import AppConfig


class SharingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "soskdt.sharing"
    label = "sharing"

    def ready(self) -> None:
        # healthbook may not import sharing (docs/architecture.md): it asks through this hook which
        # people aged 14 or over renewed their representative's access.
        from soskdt.healthbook.selectors import register_proxy_renewals
        from soskdt.sharing.services import proxy_renewals

        register_proxy_renewals(proxy_renewals)
