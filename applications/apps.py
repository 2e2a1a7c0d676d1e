from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = "零星报销"

    def ready(self):
        # The receivers import the models: only once the app registry is ready.
        from .panels import register
        from .receivers import connect

        connect()
        register()
