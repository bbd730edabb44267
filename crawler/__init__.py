"""Scrapy project: spiders, site files, middlewares, extensions and commands.

Imports run one way: ``crawler`` uses ``pipelines``; ``pipelines`` never
imports ``crawler``.
"""
