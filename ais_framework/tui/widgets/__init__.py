"""The widgets of the terminal UI, one per file."""
