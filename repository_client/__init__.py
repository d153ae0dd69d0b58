"""Client for the ais-fw model repository (installed as ``ais_repository_client``).

``RepositoryClient`` speaks the REST API (requests); ``install_model`` downloads, verifies and
installs a model by name; the repository URL comes from ``--repository``, ``$AIS_FW_REPOSITORY``
or the user config file (see :mod:`ais_repository_client.config`).
"""
