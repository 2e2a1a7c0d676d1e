from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "基金监管"

    def ready(self):
        # The receivers and hooks read the models: only once the app registry is ready.
        from .receivers import connect

        connect()
