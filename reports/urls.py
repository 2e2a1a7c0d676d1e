from django.urls import path

from . import funds_views, views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("refresh/", views.refresh_view, name="refresh"),
    path("files/", views.report_status, name="report_status"),
    path("files/new/", views.report_new, name="report_new"),
    path("files/<int:pk>.xlsx", views.report_download, name="report_download"),
    path("whatif/<int:pk>/", views.whatif_view, name="whatif"),
    path("funds/", funds_views.funds_view, name="funds"),
    path("funds/<int:pk>/override/", funds_views.funds_override, name="funds_override"),
]
