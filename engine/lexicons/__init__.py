"""Converters that turn the shared event-coding dictionaries (``../shared/lexicons/``) into rule files."""
