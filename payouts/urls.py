from django.urls import path

from . import views

app_name = "payouts"
urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("new/", views.batch_new, name="batch_new"),
    path("lines/", views.line_search, name="line_search"),
    path("<int:pk>/", views.batch_detail, name="batch_detail"),
    path("<int:pk>/export/", views.batch_export_view, name="batch_export"),
    path("<int:pk>/notice.xlsx", views.public_notice_view, name="public_notice"),
    path("<int:pk>/return/", views.return_upload, name="return_upload"),
    path("<int:pk>/<str:action>/", views.batch_action, name="batch_action"),
    path("cases/<int:case_pk>/payee/", views.payee_correct_view, name="payee_correct"),
]
