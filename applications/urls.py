from django.urls import path

from . import views

app_name = "applications"
urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("calculator/", views.calculator, name="calculator"),
]
