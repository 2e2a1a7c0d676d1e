from django.apps import AppConfig

from config.schedules import sync_schedules


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与角色"

    def ready(self):
        # Signals and role sync read models: imported once the app registry is ready.
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401  (connects the login audit)
        from .roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self)
        post_migrate.connect(_sync_schedules, sender=self)


def _sync_schedules(sender, using="default", **kwargs):
    # After every migrate (the periodic-task tables exist by then): the schedules of config/schedules.py.
    sync_schedules(using=using)
