from django.urls import path

from imports.urls import import_urls

from . import views

app_name = "settlements"
urlpatterns = [
    *import_urls("settlement"),
    path("hospitals/", views.hospital_list, name="hospital_list"),
    path("list/", views.settlement_list, name="settlement_list"),
]
