"""Services of the recipient registry: audited views of personal data, and typed entry points of the roster
import (the flow itself is the imports app's; the roster format is declared in import_format.py)."""

import datetime

from audit.services import audit_record
from imports.services import import_create, import_run

from .models import Person, RosterImport


def roster_import_create(
    *,
    user,
    file_name: str,
    content: bytes,
    source: str,
    snapshot_date: datetime.date | None = None,
    enqueue: bool = True,
) -> RosterImport:
    """Store an uploaded roster and queue its check. Nothing in the registry changes yet."""
    return import_create(
        kind="roster",
        user=user,
        file_name=file_name,
        content=content,
        options={"source": source, "snapshot_date": snapshot_date},
        enqueue=enqueue,
    )


def roster_import_run(*, roster_import: RosterImport, user) -> RosterImport:
    """Check and write a stored roster in one go, without the preview step (operator command, benchmark)."""
    return import_run(record=roster_import, user=user)


def person_reveal_pii(*, person: Person, user, request=None) -> dict:
    """Return a person's full ID, phone and bank account, and record that the user saw them."""
    if not user.has_perm("recipients.view_full_pii"):
        raise PermissionError("没有查看完整个人信息的权限")
    audit_record(
        actor=user,
        action="recipient.pii_view",
        obj=person,
        object_repr=person.name,
        comment="查看完整身份证号、联系电话、银行账号",
        request=request,
    )
    return {"id_number": person.id_number, "phone": person.phone, "bank_account": person.bank_account}
