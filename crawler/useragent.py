"""ContactUserAgent add-on: the User-Agent names the project and how to reach whoever runs it.

``BOT_CONTACT`` may come from the environment, a ``-s`` option or a site
file; the add-on writes it into ``USER_AGENT`` once all settings are known,
so the User-Agent sent and the one recorded in the WARC are the same.
"""

from __future__ import annotations

PROJECT_PAGE = "https://github.com/newsarchive/newsarchive"


def user_agent(template: str, contact: str) -> str:
    """``template`` with ``{contact}`` replaced by the contact, else by the project's page."""
    contact = " ".join(contact.split())  # one header line, whatever was pasted into the setting
    return template.replace("{contact}", contact or PROJECT_PAGE)


class ContactUserAgent:
    def update_settings(self, settings) -> None:
        template = settings.get("USER_AGENT") or ""
        if "{contact}" in template:
            agent = user_agent(template, settings.get("BOT_CONTACT") or "")
            settings.set("USER_AGENT", agent, priority=settings.getpriority("USER_AGENT"))
