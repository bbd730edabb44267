"""Benchmarks (`make bench`): the project against a hand-written Scrapy + trafilatura spider."""
