"""Middleware of the portal's own: requests whose query or form fields hold control characters are answered 400,
before any view or query sees them (PostgreSQL refuses a NUL byte in text: without this, a search for "%00" was a
500); and the Permissions-Policy header."""

from django.conf import settings
from django.shortcuts import render

from .control import CONTROL


def has_control(values) -> bool:
    return any(CONTROL.search(key) or any(CONTROL.search(v) for v in vals) for key, vals in values.lists())


class RejectControlCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            CONTROL.search(request.path)
            or has_control(request.GET)
            or (request.method == "POST" and has_control(request.POST))
        ):
            return render(request, "bad_input.html", status=400)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Browser features no page of the portal uses, switched off (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
