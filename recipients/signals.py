"""What the registry announces, for the parts of the portal built on it (the cross-check reacts to new and
changed identities). Sent inside the transaction that wrote the change."""

from django.dispatch import Signal

# A roster import was written. kwargs: record (RosterImport), changed (bool: identities added, changed or
# ended), user (who confirmed it, or None).
roster_applied = Signal()

# Identities were entered one by one through the registry's service (recipients.services.identity_grant), not by
# a roster. kwargs: person_ids (list), user, reason (str).
identities_granted = Signal()
