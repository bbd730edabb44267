"""Spiders: generic ones (urls, sitemap, feed) and one per site file (see crawler.spiderloader)."""
