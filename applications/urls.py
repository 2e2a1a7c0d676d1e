from django.urls import path

from . import lead_views, secondary_views, views
from .case_urls import urlpatterns as case_urlpatterns

app_name = "applications"
urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/copy/", views.policy_copy, name="policy_copy"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/activate/", views.policy_activate_view, name="policy_activate"),
    path("policies/compare/", views.policy_compare, name="policy_compare"),
    path("calculator/", views.calculator, name="calculator"),
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
    path("jobs/", lead_views.job_list, name="job_list"),
    path("jobs/run/", lead_views.job_run, name="job_run"),
    path("jobs/schedule/", lead_views.job_schedule, name="job_schedule"),
    *case_urlpatterns,
]
