"""Errors a user can fix: each prints as one line naming the problem, and the crawl does not start."""


class ConfigError(Exception):
    """A bad site file, setting or spider argument."""


def reject_unknown_fields(table: dict, known, where: str) -> None:
    """One line naming the fields a data file (site file, schedule) has that it should not."""
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
