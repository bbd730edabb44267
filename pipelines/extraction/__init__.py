"""From a fetched page to an article: decoding, metadata, classification, body, pruning, cleaning.

Plain functions, no Scrapy: they run in the extraction worker processes and tests call them directly.
"""
