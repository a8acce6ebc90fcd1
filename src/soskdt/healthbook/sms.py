"""Text messages to a citizen's registered phone, through a pluggable backend (``SOSKDT["SMS_BACKEND"]``).

``ConsoleSmsBackend`` (the default) writes the code to the server log, for development and the demo;
``LocmemSmsBackend`` keeps messages in ``LocmemSmsBackend.outbox`` for tests. A real deployment plugs
in its SMS gateway with a class that has the same ``send`` method.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("soskdt.healthbook.sms")


@dataclass(frozen=True, slots=True)
class SmsMessage:
    phone: str
    text: str
    otp: str | None = None  # the one-time code the text carries, if any (for the console and tests)


class SmsBackend(Protocol):
    def send(self, message: SmsMessage) -> None: ...


class ConsoleSmsBackend:
    """Write messages to the ``soskdt`` log at INFO instead of sending them."""

    def send(self, message: SmsMessage) -> None:
        if message.otp is not None:
            logger.info("OTP %s for phone %s", message.otp, message.phone)
        else:
            logger.info("SMS for phone %s: %s", message.phone, message.text)


class LocmemSmsBackend:
    """Keep messages in memory (``outbox``), like Django's locmem e-mail backend."""

    outbox: ClassVar[list[SmsMessage]] = []

    def send(self, message: SmsMessage) -> None:
        type(self).outbox.append(message)


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(str(settings.SOSKDT["SMS_BACKEND"]))()
    return backend


def send_sms(message: SmsMessage) -> None:
    """Send one message through the configured backend."""
    get_backend().send(message)


def mask_phone(phone: str) -> str:
    """Show only the first two and last two digits: ``0901234567`` → ``09******67``."""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]
