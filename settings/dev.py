"""Local development: verbose, quick progress lines, no politeness delay for loopback test servers."""

from settings.base import *  # noqa: F403

LOG_LEVEL = "DEBUG"
PROGRESS_INTERVAL = 5
