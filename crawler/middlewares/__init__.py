"""Downloader middlewares for the live web: retries with backoff, redirect loops, meta refresh."""
