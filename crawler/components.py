"""SkipDisabledComponents add-on: a component switched off by its setting is not even imported.

Scrapy loads every extension and middleware of its defaults, then lets the
disabled ones decline; importing them is not free. The remote-control
extension imports aiohttp (0.2 s) and the cookies middleware tldextract
(0.08 s), at the start of every crawl and before its first request. Taking
them out of the component lists when their switch is off changes nothing
else: turning the switch on (``-s COOKIES_ENABLED=true``) brings them back.
"""

from __future__ import annotations

# component: (the setting that switches it on, the component list it is in)
SWITCHED = {
    "scrapy.extensions.remote_control.RemoteControl": ("REMOTE_CONTROL_ENABLED", "EXTENSIONS"),
    "scrapy.extensions.telnet.TelnetConsole": ("TELNETCONSOLE_ENABLED", "EXTENSIONS"),
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": ("COOKIES_ENABLED", "DOWNLOADER_MIDDLEWARES"),
}


class SkipDisabledComponents:
    def update_settings(self, settings) -> None:
        for path, (switch, components) in SWITCHED.items():
            if settings.getbool(switch) or path in settings.getdict(components):
                continue  # switched on, or placed in the list by the user: theirs to keep
            # out of Scrapy's defaults (``<LIST>_BASE``): a None in the list itself would still be imported,
            # as Scrapy loads each key of the list to match it with the defaults
            base = f"{components}_BASE"
            kept = {key: value for key, value in settings.getdict(base).items() if key != path}
            settings.set(base, kept, priority=settings.getpriority(base))
