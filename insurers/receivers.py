"""What the insurer mode does when the policy announces a change (applications.signals)."""

from applications.models import PolicyVersion
from applications.signals import policy_copied

from .services import terms_copy


def copy_terms(sender, *, source, draft, user, **kwargs):
    terms_copy(source=source, draft=draft, user=user)


def connect() -> None:
    policy_copied.connect(copy_terms, sender=PolicyVersion, dispatch_uid="insurers.copy_terms")
