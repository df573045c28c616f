"""The email channel: one message through SMTP (aiosmtplib), multipart text + HTML, with the unsubscribe
headers of RFC 2369 / RFC 8058 that services/crm/suppression.py gives and a Message-ID derived from the
message's id (a mail system that sees the same message again can tell)."""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

import aiosmtplib

from core.settings import Settings


class SendFailed(Exception):
    """A try that did not deliver; the message is tried again later (or fails after its last try)."""


def build(
    settings: Settings,
    *,
    message_id: uuid.UUID,
    to: str,
    subject: str,
    html: str,
    text: str,
    headers: dict[str, str],
) -> EmailMessage:
    email = EmailMessage()
    name, address = parseaddr(settings.crm_email_from)
    email["From"] = formataddr((name, address))
    email["To"] = to
    email["Subject"] = subject
    domain = address.partition("@")[2] or "croupier.invalid"
    email["Message-ID"] = f"<{message_id}@{domain}>"
    for header, value in headers.items():
        email[header] = value
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email


async def send(settings: Settings, email: EmailMessage) -> None:
    seconds = settings.crm_send_timeout_seconds
    sending = aiosmtplib.send(
        email,
        hostname=settings.crm_smtp_host,
        port=settings.crm_smtp_port,
        use_tls=settings.crm_smtp_tls == "tls",
        start_tls=settings.crm_smtp_tls == "starttls",
        username=settings.crm_smtp_username,
        password=settings.crm_smtp_password,
        timeout=seconds,
    )
    try:  # bounded in all: aiosmtplib's time-out is per command, and the sender's lease is sized on one try
        await asyncio.wait_for(sending, seconds)
    except TimeoutError as exc:  # aiosmtplib's SMTPTimeoutError is one too
        raise SendFailed("SMTP: no answer in time") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"SMTP: {type(exc).__name__}: {exc}"[:200]) from exc
