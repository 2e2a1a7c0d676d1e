from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "监测预警"

    def ready(self):
        from .panels import register
        from .receivers import connect

        connect()
        register()
