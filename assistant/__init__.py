"""assistant: question answering over a folder of news articles, every claim cited to a passage."""

__version__ = "0.1.0"
