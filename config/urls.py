from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "医疗救助经办管理系统 · 系统管理"
admin.site.site_title = "医疗救助经办管理系统"
admin.site.index_title = "配置管理"

urlpatterns = [
    path("", include("accounts.urls")),
    path("recipients/", include("recipients.urls")),
    path("audit/", include("audit.urls")),
    path("settlements/", include("settlements.urls")),
    path("payouts/", include("payouts.urls")),
    path("supervision/", include("supervision.urls")),
    path("reports/", include("reports.urls")),
    path("subsidies/", include("subsidies.urls")),
    path("followups/", include("followups.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("insurers/", include("insurers.urls")),
    path("", include("applications.urls")),
    path("admin/", admin.site.urls),
]
