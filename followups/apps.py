from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = "回访与投诉"

    def ready(self):
        # The person-page panel reads this app's models: only once the app registry is ready.
        from .panels import register

        register()
