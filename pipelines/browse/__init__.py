"""``scrapy browse``: search the stored articles, read one, and see the archived page it came from.

``search`` keeps the full-text index (SQLite FTS5) under ``STATE_DIR``,
``archived`` finds a page in the WARC files and makes it inert, ``app`` serves
the pages on 127.0.0.1. Read-only: nothing here writes to the store.
"""
