"""Builtin network architectures, one module each (see ais_framework/templates/architecture_template.py).

``_layers`` holds the building blocks they share; it imports torch, so the architecture
modules import it only inside ``build()``.
"""
