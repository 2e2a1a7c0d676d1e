"""Changes to the people watched other than the monthly run: a person in no registry handed to a township."""

from django.db import transaction

from audit.services import audit_record
from recipients.models import Township

from .models import Watch


class AssignRefused(ValueError):
    """The message is shown to the user."""


@transaction.atomic
def watch_assign(*, watch: Watch, township: Township, user) -> Watch:
    """Hand a listed person who is in no registry to a township of their county, whose window can then open a
    因病致贫 identification."""
    locked = Watch.objects.select_for_update().get(pk=watch.pk)
    if locked.person_id is not None:
        raise AssignRefused("名册内人员按名册所在乡镇办理，不能分派")
    if township.county_id != locked.county_id:
        raise AssignRefused("只能分派到本县（区）的乡镇")
    before = {"township": locked.township_id}
    locked.township = township
    locked.save(update_fields=["township"])
    audit_record(actor=user, action="monitoring.assign", obj=locked, before=before, after={"township": township.pk})
    return locked
