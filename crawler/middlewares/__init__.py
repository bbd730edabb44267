"""Downloader middlewares: archive (WARC recording), replay (responses from WARC), address guard."""
