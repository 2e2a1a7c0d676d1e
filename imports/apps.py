from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "文件导入"

    def ready(self):
        # Each format declares itself in <app>/import_format.py, which imports that app's models: found once
        # the app registry is ready, as the admin finds admin.py.
        autodiscover_modules("import_format")
