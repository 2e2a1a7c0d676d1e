from django.urls import path

from . import bill_views, list_views, materials_views, views

urlpatterns = [
    path("cases/", list_views.case_list, name="case_list"),
    path("cases/approval/", list_views.approval_queue, name="approval_queue"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/new/<int:person_pk>/", views.case_new, name="case_new"),
    path("cases/new-applicant/", views.case_new_applicant, name="case_new_applicant"),
    path("cases/<int:pk>/bills/", views.case_add_bill, name="case_add_bill"),
    path("cases/<int:pk>/bills/<int:bill_pk>/edit/", bill_views.bill_edit, name="bill_edit"),
    path("cases/<int:pk>/bills/<int:bill_pk>/remove/", bill_views.bill_remove, name="bill_remove"),
    path("cases/<int:pk>/receipt/", views.case_receipt, name="case_receipt"),
    path("cases/<int:pk>/notice/", materials_views.case_notice, name="case_notice"),
    path("cases/<int:pk>/materials/", materials_views.case_materials, name="case_materials"),
    path("cases/<int:pk>/supplement/", materials_views.case_supplement_view, name="case_supplement"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/print/", views.case_print, name="case_print"),
    path("cases/<int:pk>/attachments/", views.case_upload, name="case_upload"),
    path("cases/<int:pk>/attachments/<int:attachment_pk>/", views.case_attachment, name="case_attachment"),
    path("cases/<int:pk>/<str:action>/", views.case_action, name="case_action"),
]
