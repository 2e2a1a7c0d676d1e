from django.urls import path

from . import views

app_name = "settlements"
urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_upload, name="import_upload"),
    path("imports/template.xlsx", views.import_template_download, name="import_template"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/errors.xlsx", views.import_errors_download, name="import_errors_download"),
    path("hospitals/", views.hospital_list, name="hospital_list"),
    path("list/", views.settlement_list, name="settlement_list"),
]
