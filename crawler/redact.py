"""RedactSecrets add-on: no password, key or token reaches the log.

Scrapy logs every overridden setting when a crawl starts, a ``-s
AWS_SECRET_ACCESS_KEY=...`` included, and URLs may carry passwords
(``redis://:password@host``, ``http://user:password@proxy``). A filter on the
log handlers replaces the values of settings named like secrets, and the
password of any URL, with ``***`` in every log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from scrapy.settings import default_settings

SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|ACCESS_KEY|API_KEY|PRIVATE_KEY", re.I)
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]*:)[^@\s/'\"]+@", re.I)
MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


def secret_values(settings) -> set[str]:
    """The values of settings whose names say they are secrets."""
    values = set()
    for name in settings.attributes:
        if not SECRET_NAME.search(name):
            continue  # reading every setting would also trip Scrapy's deprecation warnings (DNS_RESOLVER)
        value = settings.get(name)
        if value == getattr(default_settings, name, None):
            continue  # Scrapy's public default (FTP_PASSWORD "guest", anonymous FTP) masked every "guest" page
        if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            values.add(value)
    return values


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)


def redact_data(data: Any, secrets: Iterable[str] = ()) -> Any:
    """``data`` (a record's dicts, lists and strings, keys too) with every string redacted, before it becomes JSON.

    Redacting the JSON text broke it when a secret was also a word of JSON's syntax (``"ok": ***`` for a
    secret "true", "null" or a number), and missed a secret that JSON escapes (a quote, a backslash, "ö").
    """
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, dict):
        return {redact_data(key, secrets): redact_data(value, secrets) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(value, secrets) for value in data]
    return data


class RedactingFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_filter = RedactingFilter()


def install(secrets: Iterable[str]) -> None:
    """Add the secrets to the filter, and the filter to every handler of the root logger."""
    _filter.secrets.update(secrets)
    for handler in logging.getLogger().handlers:
        if _filter not in handler.filters:
            handler.addFilter(_filter)


class RedactSecrets:
    def update_settings(self, settings) -> None:
        install(secret_values(settings))
