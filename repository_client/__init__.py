"""Client for the ais-fw model repository (installed as ``ais_repository_client``)."""
