"""Services of the recipient registry: audited views of personal data, and typed entry points of the roster
import (the flow itself is the imports app's; the roster format is declared in import_format.py)."""

import datetime

from django.db import transaction

from audit.services import audit_record
from imports.services import import_create, import_run

from .idnumber import IdNumberError, parse_id_number
from .models import Identity, Person, RosterImport, Township
from .signals import identities_granted


class IdentityRefused(ValueError):
    """The identity cannot be entered; the message is shown to the user."""


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


@transaction.atomic
def identity_grant(
    *,
    user,
    id_number: str,
    name: str,
    township: Township,
    category: str,
    source: str,
    valid_from: datetime.date,
    valid_to: datetime.date | None,
    phone: str = "",
    reason: str = "",
) -> Identity:
    """Enter one identity decided outside a roster (a 因病致贫 identification by 医保): the person is registered
    in the township when not yet in the registry. Audited; announces `identities_granted` once the caller's
    transaction commits, so that the parts built on the registry (the cross-check) look at the person's
    settlements again."""
    try:
        info = parse_id_number(id_number)
    except IdNumberError as exc:
        raise IdentityRefused(str(exc)) from None
    if valid_to is not None and valid_to < valid_from:
        raise IdentityRefused("退出日期不能早于认定日期")
    person = Person.objects.select_for_update().filter(id_number=info.number).first()
    if person is None:
        person = Person.objects.create(
            id_number=info.number,
            name=name.strip()[:50],
            sex=info.sex,
            birth_date=info.birth_date,
            township=township,
            phone=phone.strip()[:30],
        )
        audit_record(actor=user, action="recipient.register", obj=person, object_repr=person.name, comment=reason)
    identity, created = Identity.objects.get_or_create(
        person=person,
        category=category,
        valid_from=valid_from,
        defaults={"source": source, "valid_to": valid_to},
    )
    if not created:
        before = {"valid_to": str(identity.valid_to) if identity.valid_to else None, "source": identity.source}
        identity.valid_to, identity.source = valid_to, source
        identity.save(update_fields=["valid_to", "source", "updated_at"])
    else:
        before = None
    audit_record(
        actor=user,
        action="recipient.identity_grant",
        obj=identity,
        object_repr=f"{person.name} {identity.get_category_display()}",
        before=before,
        after={"category": category, "source": source, "valid_from": str(valid_from), "valid_to": str(valid_to)},
        comment=reason,
    )
    transaction.on_commit(
        lambda: identities_granted.send(sender=Identity, person_ids=[person.pk], user=user, reason=reason)
    )
    return identity
