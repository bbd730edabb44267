"""Project commands (COMMANDS_MODULE): one ScrapyCommand per module, module name = command name.

Every command reports a user's mistake (bad site file, setting, argument) as
one line on stderr and exits 2; nothing starts. The shared base is in
``crawler.cli`` (Scrapy would take a class defined here for a command).
"""
