"""How the list follows the registry: a roster import that changed identities queues a rebuild of the lists of the
insurance years still followed (this year's and later ones), once it commits.
Connected once at start-up (apps.SubsidiesConfig.ready)."""

from django.utils import timezone

from recipients.signals import roster_applied

from .models import SubsidyRuleSet
from .services import list_rebuild_on_commit


def after_roster(sender, *, record, changed: bool, **kwargs):
    if not changed:
        return
    sets = SubsidyRuleSet.objects.filter(status=SubsidyRuleSet.Status.ACTIVE, year__gte=timezone.localdate().year)
    county_id = getattr(record, "county_id", None)
    if county_id is not None:  # a county's roster changes its own people only
        sets = sets.filter(county_id=county_id)
    for county, year in sets.values_list("county_id", "year"):
        list_rebuild_on_commit(county_id=county, year=year)


def connect() -> None:
    roster_applied.connect(after_roster, dispatch_uid="subsidies.after_roster")
