from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "统计报表"

    def ready(self):
        # The receivers import the models: only once the app registry is ready.
        from .receivers import connect

        connect()
