from django.urls import path

from imports.urls import import_urls

from . import views

app_name = "recipients"
urlpatterns = [
    path("people/", views.person_list, name="person_list"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    *import_urls("roster"),
]
