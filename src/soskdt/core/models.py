"""Shared kernel models: the base model and the attempt throttle."""

from __future__ import annotations

from django.db import models


class TimeStampedModel(models.Model):
    """Base for every model: creation and update times in UTC."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Throttle(models.Model):
    """Failed attempts per (scope, key): logins per account and per address, passcodes, share codes.

    Kept in the database, not a cache, so that every web process and worker sees the same count.
    """

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="core_throttle_scope_key_uniq")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} ({self.failures})"
