from django.apps import AppConfig


class InsurersConfig(AppConfig):
    name = "insurers"
    verbose_name = "承办保险机构"

    def ready(self):
        # The receivers and panels import the models: only once the app registry is ready.
        from .panels import register
        from .receivers import connect

        connect()
        register()
