"""Count failed attempts and lock a key for a while after too many (logins, passcodes, codes)."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from soskdt.core.models import Throttle


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str
    max_failures: int
    lock_seconds: int
    window_seconds: int = 3600


def _key(raw: str) -> str:
    # Keys may be personal IDs or addresses: keep only a digest at rest.
    return hashlib.sha256(raw.encode()).hexdigest()


def locked_for(limit: Limit, raw_key: str, *, now: dt.datetime | None = None) -> int:
    """Return the whole minutes left on a lock (0 when the key is not locked)."""
    now = now or timezone.now()
    row = Throttle.objects.filter(scope=limit.scope, key=_key(raw_key)).only("locked_until").first()
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return max(1, math.ceil((row.locked_until - now).total_seconds() / 60))


def record_failure(limit: Limit, raw_key: str, *, now: dt.datetime | None = None) -> int:
    """Count one failure; lock the key when it reaches the limit. Return the failures in the window."""
    now = now or timezone.now()
    key = _key(raw_key)
    with transaction.atomic():
        row, _created = Throttle.objects.select_for_update().get_or_create(
            scope=limit.scope, key=key, defaults={"window_started_at": now}
        )
        if row.locked_until and row.locked_until <= now:
            row.failures, row.locked_until, row.window_started_at = 0, None, now
        elif now - row.window_started_at > dt.timedelta(seconds=limit.window_seconds):
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= limit.max_failures:
            row.locked_until = now + dt.timedelta(seconds=limit.lock_seconds)
        row.save(update_fields=["failures", "locked_until", "window_started_at"])
        return row.failures


def clear(limit: Limit, raw_key: str) -> None:
    """Forget the failures of a key (after a success or an administrator's reset)."""
    Throttle.objects.filter(scope=limit.scope, key=_key(raw_key)).delete()


def failures(limit: Limit, raw_key: str) -> int:
    row = Throttle.objects.filter(scope=limit.scope, key=_key(raw_key)).only("failures").first()
    return row.failures if row else 0
