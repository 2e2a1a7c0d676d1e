from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo county (`seed_demo`): built on every other app, so it sits above them all."""

    name = "demo"
    verbose_name = "演示数据"
