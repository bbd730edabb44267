"""The web archive: WARC files written as pages are fetched (writer) and read back for replay (reader)."""
