from django.urls import path

from imports.urls import import_urls

from . import ticket_views, views

app_name = "followups"
urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("new/", views.plan_new, name="plan_new"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/cancel/", views.plan_cancel_view, name="plan_cancel"),
    path("<int:pk>/calls.xlsx", views.call_sheet_download, name="call_sheet"),
    path("<int:pk>/townships/<int:township_pk>/", views.call_list, name="call_list"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("tickets/", ticket_views.ticket_list, name="ticket_list"),
    path("tickets/new/", ticket_views.ticket_new, name="ticket_new"),
    path("tickets/<int:pk>/", ticket_views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/reply/", ticket_views.ticket_reply_view, name="ticket_reply"),
    path("tickets/<int:pk>/close/", ticket_views.ticket_close_view, name="ticket_close"),
    *import_urls("followup"),
]
