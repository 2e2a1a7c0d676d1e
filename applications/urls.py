from django.urls import path

from .cases.urls import urlpatterns as case_urlpatterns
from .jobs import views as job_views
from .policy.urls import urlpatterns as policy_urlpatterns
from .proactive import views as lead_views
from .secondary import views as secondary_views

app_name = "applications"
urlpatterns = [
    *policy_urlpatterns,
    path("leads/", lead_views.lead_list, name="lead_list"),
    path("leads/export.xlsx", lead_views.lead_export, name="lead_export"),
    path("leads/<int:pk>/", lead_views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/contact/", lead_views.lead_contact, name="lead_contact"),
    path("leads/<int:pk>/close/", lead_views.lead_close_view, name="lead_close"),
    path("leads/<int:pk>/convert/", lead_views.lead_convert_view, name="lead_convert"),
    path("secondary/", secondary_views.secondary_list, name="secondary_list"),
    path("secondary/export.xlsx", secondary_views.secondary_export, name="secondary_export"),
    path("secondary/warnings/", secondary_views.warning_list, name="warning_list"),
    path("secondary/warnings/export.xlsx", secondary_views.warning_export, name="warning_export"),
    path("jobs/", job_views.job_list, name="job_list"),
    path("jobs/run/", job_views.job_run, name="job_run"),
    path("jobs/schedule/", job_views.job_schedule, name="job_schedule"),
    path("jobs/<int:pk>/retry/", job_views.job_retry_view, name="job_retry"),
    path("jobs/<int:pk>/cancel/", job_views.job_cancel_view, name="job_cancel"),
    *case_urlpatterns,
]
