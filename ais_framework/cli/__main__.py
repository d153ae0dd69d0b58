"""``python -m ais_framework.cli`` runs ``ais-fw`` with this interpreter."""
from .main import main

if __name__ == "__main__":
    main()
