"""Downloader middlewares for the live web: retries with backoff, redirect loops, off-site requests counted."""
