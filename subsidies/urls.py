from imports.urls import import_urls

app_name = "subsidies"
urlpatterns = [
    *import_urls("enrolment"),
]
