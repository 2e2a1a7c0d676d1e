"""The flow's pages for one format. Not a URLconf of its own: a format's app includes `import_urls(kind)` in
its urlpatterns, so that the pages keep that app's namespace (recipients:import_list, settlements:import_list)."""

from django.urls import path

from . import views


def import_urls(kind: str, prefix: str = "imports/") -> list:
    k = {"kind": kind}
    return [
        path(f"{prefix}", views.import_list, k, name="import_list"),
        path(f"{prefix}new/", views.import_upload, k, name="import_upload"),
        path(f"{prefix}template.xlsx", views.import_template_download, k, name="import_template"),
        path(f"{prefix}<int:pk>/", views.import_detail, k, name="import_detail"),
        path(f"{prefix}<int:pk>/confirm/", views.import_confirm_view, k, name="import_confirm"),
        path(f"{prefix}<int:pk>/cancel/", views.import_cancel_view, k, name="import_cancel"),
        path(f"{prefix}<int:pk>/retry/", views.import_retry_view, k, name="import_retry"),
        path(f"{prefix}<int:pk>/errors.xlsx", views.import_errors_download, k, name="import_errors_download"),
    ]
