"""Scrapy settings modules: ``base`` holds every setting; ``dev`` and ``prod`` hold overrides only."""
