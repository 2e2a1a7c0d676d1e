"""The pages of the import flow, the same for every format. Each format's app includes them under its own URL
namespace (urls.import_urls), which passes the format's kind."""

import functools

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from lib.pages import paginate
from lib.spreadsheet import xlsx_response

from .registry import ImportFormat, get_format
from .services import ImportRejected, import_cancel, import_confirm, import_create, import_retry
from .workbooks import error_report


def format_view(needs: str):
    """Resolve the format the URL names and require its "view" or "import" permission."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, kind: str, **kwargs):
            fmt = get_format(kind)
            permission = fmt.import_permission if needs == "import" else fmt.view_permission
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, fmt, *args, **kwargs)

        return wrapper

    return decorator


def _urls(fmt: ImportFormat, record=None) -> dict:
    def url(name, *args):
        return reverse(f"{fmt.namespace}:{name}", args=args)

    urls = {"list": url("import_list"), "upload": url("import_upload"), "template": url("import_template")}
    if record is not None:
        urls |= {
            "detail": url("import_detail", record.pk),
            "confirm": url("import_confirm", record.pk),
            "cancel": url("import_cancel", record.pk),
            "retry": url("import_retry", record.pk),
            "errors": url("import_errors_download", record.pk),
        }
    return urls


def _page_context(request, fmt: ImportFormat, record=None) -> dict:
    return {"fmt": fmt, "urls": _urls(fmt, record), "can_import": request.user.has_perm(fmt.import_permission)}


def _visible(request, fmt: ImportFormat, pk: int):
    records = fmt.model.objects.visible_to(request.user)
    return get_object_or_404(records.select_related("created_by", "applied_by", *fmt.related).defer("content"), pk=pk)


@format_view("view")
def import_list(request, fmt: ImportFormat):
    records = (
        fmt.model.objects.visible_to(request.user).select_related("created_by", *fmt.related).defer("content", "errors")
    )
    links = [
        {"url": reverse(link.url_name), "label": link.label}
        for link in fmt.pages.links
        if request.user.has_perm(link.permission)
    ]
    page, _ = paginate(request, records, 30)
    return render(request, "imports/list.html", {**_page_context(request, fmt), "page": page, "links": links})


@format_view("import")
def import_upload(request, fmt: ImportFormat):
    form = fmt.upload_form(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = import_create(
                kind=fmt.kind,
                user=request.user,
                file_name=upload.name,
                content=upload.read(),
                options=form.options(),
            )
        except ImportRejected as exc:
            form.add_error("file", str(exc))
        else:
            return redirect(record.get_absolute_url())
    return render(request, "imports/upload.html", {**_page_context(request, fmt), "form": form})


@format_view("view")
def import_detail(request, fmt: ImportFormat, pk: int):
    record = _visible(request, fmt, pk)
    context = {
        **_page_context(request, fmt, record),
        "imp": record,
        "errors_page": Paginator(record.errors or [], 100).get_page(request.GET.get("page")),
        "confirm_prompt": fmt.confirm_prompt(record),
        **(fmt.detail_context(record) if fmt.detail_context else {}),
    }
    if request.htmx:
        return render(request, "imports/_status.html", context)
    return render(request, "imports/detail.html", context)


def _step(request, fmt: ImportFormat, pk: int, service, notify, done: str):
    record = _visible(request, fmt, pk)
    try:
        service(record=record, user=request.user)
        notify(request, done)
    except ImportRejected as exc:
        messages.error(request, str(exc))
    return redirect(record.get_absolute_url())


@require_POST
@format_view("import")
def import_confirm_view(request, fmt: ImportFormat, pk: int):
    return _step(request, fmt, pk, import_confirm, messages.success, "已确认，正在导入")


@require_POST
@format_view("import")
def import_cancel_view(request, fmt: ImportFormat, pk: int):
    return _step(request, fmt, pk, import_cancel, messages.info, "已取消本次导入，未写入任何数据")


@require_POST
@format_view("import")
def import_retry_view(request, fmt: ImportFormat, pk: int):
    return _step(request, fmt, pk, import_retry, messages.success, "已重新提交校验")


@format_view("view")
def import_errors_download(request, fmt: ImportFormat, pk: int):
    """The full check report as an Excel workbook."""
    record = _visible(request, fmt, pk)
    content = error_report(record.errors or [], record.error_kinds, record.error_count)
    return xlsx_response(content, f"{fmt.file_slug}-import-{record.pk}-errors.xlsx")


@format_view("import")
def import_template_download(request, fmt: ImportFormat):
    """A blank workbook of the format, with its exact headers and notes."""
    return xlsx_response(fmt.blank_template(), f"{fmt.file_slug}-template.xlsx")
