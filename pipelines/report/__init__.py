"""What the store holds, for people: the report's figures, its page, and the layout-change alarms.

Plain code over the storage interface (no Scrapy): ``scrapy report`` and the
run record extension call it.
"""
