"""Model packages (``.aism``): a zip of metadata, safetensors weights and a test input/output pair.

``read_metadata`` is cheap (no torch); ``load_model`` checks every member's sha256 and builds
the network with the installed architecture plugin; ``validate_model`` re-runs the test pair.
Nothing here unpickles or executes code from a package.
"""
from .metadata import SCHEMA_VERSION, ModelMetadata, Normalisation, TrainingRecord
from .network import predict
from .package import MODEL_SUFFIX, LoadedModel, load_model, read_metadata, save_model
from .validate import DEFAULT_TOLERANCE, validate_model

__all__ = [
    "DEFAULT_TOLERANCE",
    "MODEL_SUFFIX",
    "SCHEMA_VERSION",
    "LoadedModel",
    "ModelMetadata",
    "Normalisation",
    "TrainingRecord",
    "load_model",
    "predict",
    "read_metadata",
    "save_model",
    "validate_model",
]
