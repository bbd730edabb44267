"""Errors a user can fix: each prints as one line naming the problem, and the crawl does not start."""


class ConfigError(Exception):
    """A bad site file, setting or spider argument."""
