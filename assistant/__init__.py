"""assistant: question answering over a folder of news articles, every claim cited to a passage.

The command line (cli.py) is a thin layer over this package: engine.Assistant answers, ingest.ingest
indexes, maintenance.doctor checks and repairs; DEVELOPERS.md draws the layout.
"""

__version__ = "0.1.0"
