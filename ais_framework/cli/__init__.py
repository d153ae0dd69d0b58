"""The ``ais-fw`` command line: one module per command group, each thin over ``ais_framework.api``."""
