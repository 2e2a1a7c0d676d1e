from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.listing_list, name="listing_list"),
    path("run/", views.run_request, name="run_request"),
    path("export/", views.listing_export, name="listing_export"),
    path("watch/<int:pk>/assign/", views.watch_assign_view, name="watch_assign"),
    path("zb/", views.zb_list, name="zb_list"),
    path("zb/new/<int:listing_pk>/", views.zb_new, name="zb_new"),
    path("zb/<int:pk>/", views.zb_detail, name="zb_detail"),
    path("zb/scan/<int:pk>/", views.zb_scan, name="zb_scan"),
]
