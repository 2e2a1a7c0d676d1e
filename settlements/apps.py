from django.apps import AppConfig


class SettlementsConfig(AppConfig):
    name = "settlements"
    verbose_name = "医保结算数据"

    def ready(self):
        # The panel reads the settlement models: only once the app registry is ready.
        from .panels import register

        register()
