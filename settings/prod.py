"""Production: quieter logs; everything else as in base (S3 and Redis come from STORE_URI / FRONTIER_URL)."""

from settings.base import *  # noqa: F403

LOG_LEVEL = "INFO"
PROGRESS_INTERVAL = 60
