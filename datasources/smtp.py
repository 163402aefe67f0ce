"""Sending mail over SMTP (MSG) with aiosmtplib: one connection per message, with a timeout, STARTTLS and
login when configured. A failure is a `DeliveryFailed` carrying the SMTP reply code when the server gave one
(4xx: try again later; 5xx: refused for good) or none when the connection broke, in which case the message
may or may not have been accepted."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib


class DeliveryFailed(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class SmtpSender:
    def __init__(self, host: str, port: int, *, timeout: float = 10.0, username: str | None = None,
                 password: str | None = None, start_tls: bool = False) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.username = username or None
        self.password = password or None
        self.start_tls = start_tls

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(message, hostname=self.host, port=self.port, timeout=self.timeout,
                                  username=self.username, password=self.password, start_tls=self.start_tls,
                                  use_tls=False)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [response.code for response in error.recipients]
            text = "; ".join(f"{r.code} {r.message} <{r.recipient}>" for r in error.recipients) or str(error)
            raise DeliveryFailed(text, max(codes) if codes else None) from error
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryFailed(f"{error.code} {error.message}", error.code) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
