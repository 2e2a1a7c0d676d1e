from django.urls import path

from imports.urls import import_urls

from . import rule_views, views

app_name = "subsidies"
urlpatterns = [
    *import_urls("enrolment"),
    path("", views.entry_list, name="entry_list"),
    path("reveal/", views.entry_reveal, name="entry_reveal"),
    path("export.xlsx", views.entry_export, name="entry_export"),
    path("<int:pk>/", views.entry_detail, name="entry_detail"),
    path("<int:pk>/contact/", views.entry_contact, name="entry_contact"),
    path("rules/", rule_views.rules_list, name="rules_list"),
    path("rules/load/", rule_views.rules_load, name="rules_load"),
    path("rules/<int:pk>/", rule_views.rules_detail, name="rules_detail"),
    path("rules/<int:pk>/edit/", rule_views.rules_edit, name="rules_edit"),
    path("rules/<int:pk>/confirm/", rule_views.rules_confirm, name="rules_confirm"),
    path("rules/<int:pk>/activate/", rule_views.rules_activate, name="rules_activate"),
    path("rules/<int:pk>/copy/", rule_views.rules_copy, name="rules_copy"),
    path("rules/<int:pk>/rebuild/", rule_views.rules_rebuild, name="rules_rebuild"),
]
