"""Extraction worker processes: the CPU-bound stages run beside the crawl, one process per core."""
