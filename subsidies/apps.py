from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = "资助参保"

    def ready(self):
        # The panel and the receivers import the models: only once the app registry is ready.
        from .panels import register
        from .receivers import connect

        connect()
        register()
