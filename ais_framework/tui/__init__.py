"""The terminal UI (``ais-fw tui``), built with Textual. Import :mod:`.app` to use it;
importing this package alone imports no Textual."""
