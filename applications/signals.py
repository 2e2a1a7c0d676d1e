"""What the case workflow announces, for the parts of the portal that react (the secondary trigger, the
assistance summary): sent inside the transaction that made the change; receivers queue their work on commit."""

from django.dispatch import Signal

# A set of cases moved from one status to another by one action. kwargs: cases (list of Case, as saved),
# action (str), from_status (str, or "" when they were created), to_status (str), user (or None).
cases_transitioned = Signal()
