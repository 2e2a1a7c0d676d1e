from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "支付批次"

    def ready(self):
        # The panel reads the payout models: only once the app registry is ready.
        from .panels import register

        register()
