"""What the case workflow announces, for the parts of the portal that react (the secondary trigger, the
assistance summary): sent inside the transaction that made the change; receivers queue their work on commit."""

from django.dispatch import Signal

# A set of cases moved by one action (cases.workflow.TRANSITIONS). kwargs: cases (list of Case, as saved, in
# their new status), action (str), to_status (str), user (or None for the system).
cases_transitioned = Signal()

# A policy version copied into a draft (policy.services.policy_copy_to_draft), so that the parts of the portal that
# keep their own terms per version (the insurer of DOMAIN §12.5) copy them too. kwargs: source, draft, user.
policy_copied = Signal()
