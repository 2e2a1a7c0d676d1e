"""What the settlement data announces, for the parts of the portal built on it (the cross-check and the
secondary trigger react to new and changed settlements). Sent inside the transaction that wrote them."""

from django.dispatch import Signal

# A settlement import was written. kwargs: record (SettlementImport), changed (bool: rows added or updated),
# person_ids (registered people the file is about), user (who confirmed it, or None).
settlements_applied = Signal()
