"""Transport-agnostic commands and their Telegram and console adapters."""
