from django.urls import path

from . import views

app_name = "insurers"

urlpatterns = [
    path("", views.statement_list, name="statement_list"),
    path("<int:pk>/", views.statement_detail, name="statement_detail"),
    path("<int:pk>/statement.xlsx", views.statement_download, name="statement_download"),
    path("<int:pk>/rebuild/", views.statement_rebuild, name="statement_rebuild"),
    path("<int:pk>/payments/", views.payment_new, name="payment_new"),
    path("<int:pk>/<str:action>/", views.statement_action, name="statement_action"),
    path("terms/", views.terms_list, name="terms_list"),
    path("terms/<int:version_pk>/", views.terms_edit, name="terms_edit"),
    path("batches/<int:batch_pk>/payer/", views.batch_payer, name="batch_payer"),
]
