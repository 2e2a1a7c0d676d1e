from django.urls import path

from . import review_views, views

app_name = "supervision"
urlpatterns = [
    path("recoveries/", views.recovery_list, name="recovery_list"),
    path("recoveries/<int:pk>/", views.recovery_detail, name="recovery_detail"),
    path("recoveries/<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("recoveries/<int:pk>/evidence/<int:evidence_pk>/", views.evidence_file, name="evidence_file"),
    path("recoveries/<int:pk>/<str:action>/", views.recovery_action, name="recovery_action"),
    path("cases/<int:case_pk>/recovery/", views.recovery_new, name="recovery_new"),
    path("suggestions/", review_views.suggestion_list, name="suggestion_list"),
    path("suggestions/<int:pk>/", review_views.suggestion_detail, name="suggestion_detail"),
    path("samples/", review_views.sample_list, name="sample_list"),
    path("samples/new/", review_views.sample_new, name="sample_new"),
    path("samples/<int:pk>/", review_views.sample_detail, name="sample_detail"),
    path("samples/items/<int:pk>/", review_views.sample_item, name="sample_item"),
]
