"""Signals the registers send, for the contexts above them to react without being imported here."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after citizens were created or updated in bulk (imports do not send ``post_save``), once the
#: rows are written: ``citizens_imported.send(sender=..., personal_ids=[...])``. ``personal_ids=None``
#: means "too many to list": receivers then look at everything.
citizens_imported = Signal()
