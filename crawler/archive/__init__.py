"""The crawl's side of the web archive: recording every response (record), answering requests from WARC
files instead of the network (replay), and the spider behind ``scrapy replay`` (spider)."""
