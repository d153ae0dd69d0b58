"""The torch side of a model package: find the architecture, build it, move weights in and out, predict.

torch and safetensors are imported inside the functions; weights are read with
``safetensors`` only (never ``torch.load``, never pickle).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputFileError, PluginError, UsageError
from .metadata import ModelMetadata

WEIGHTS_HINT = "the package was saved with other architecture options or another version of its plugin"


def predict(network: Any, x: np.ndarray) -> np.ndarray:
    """Sigmoid probabilities (float32) of ``network`` on the batch ``x``, in eval and inference mode.

    ``x`` goes to the device and dtype of the network's parameters; the training flag is restored.
    """
    import torch

    param = next(network.parameters(), None)
    device, dtype = (param.device, param.dtype) if param is not None else ("cpu", torch.float32)
    was_training = network.training
    network.eval()
    try:
        with torch.inference_mode():
            batch = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device=device, dtype=dtype)
            return torch.sigmoid(network(batch).float()).cpu().numpy()
    finally:
        network.train(was_training)


def resolve_architecture(metadata: ModelMetadata, registry: Any = None, source: str = "") -> Any:
    """The registered architecture (a :class:`RegisteredSpec`) the metadata names, or a clear error."""
    from ..plugins import get_registry

    registry = get_registry() if registry is None else registry
    entry = registry.specs("architecture").get(metadata.architecture)
    if entry is None:
        raise PluginError(f"{source}: architecture '{metadata.architecture}'{_provenance(metadata)} "
                          "is not installed", _install_hint(metadata, registry))
    if metadata.dims not in entry.spec.dims:
        raise InputFileError(f"{source}: architecture '{metadata.architecture}' does not support {metadata.dims} "
                             f"input (it supports {', '.join(entry.spec.dims)})", WEIGHTS_HINT)
    return entry


def _provenance(metadata: ModelMetadata) -> str:
    dist, version = metadata.architecture_distribution, metadata.architecture_version
    return f" (from distribution {' '.join(p for p in (dist, version) if p)})" if dist else ""


def _install_hint(metadata: ModelMetadata, registry: Any) -> str:
    dist, version = metadata.architecture_distribution, metadata.architecture_version
    failed = [f for f in getattr(registry, "failures", []) if dist and f.distribution == dist]
    if failed:
        return f"plugin '{failed[0].plugin}' of {dist} failed to load: {failed[0].error}"
    if dist:
        return f"install it: pip install '{dist}=={version}'" if version else f"install it: pip install {dist}"
    return "`ais-fw plugins` lists the installed architectures"


def version_warnings(metadata: ModelMetadata, entry: Any) -> list[str]:
    """A warning when the installed plugin's version differs from the one the model was saved with."""
    saved, installed = metadata.architecture_version, entry.source.version
    if not saved or saved == installed:
        return []
    return [f"architecture '{metadata.architecture}' was saved with {entry.source.distribution} {saved}; "
            f"{installed} is installed (run `ais-fw model validate` to check the output is unchanged)"]


def build_network(spec: Any, metadata: ModelMetadata, source: str = "") -> Any:
    """``spec.build(depth, **architecture_options)``; a plugin error becomes a :class:`PluginError`."""
    try:
        return spec.build(metadata.depth, **metadata.architecture_options)
    except Exception as exc:  # a plugin's build may raise anything
        raise PluginError(f"{source}: architecture '{spec.name}' could not build a network with depth "
                          f"{metadata.depth} and options {metadata.architecture_options}: {exc}",
                          WEIGHTS_HINT) from exc


def network_from_weights(spec: Any, metadata: ModelMetadata, weights: bytes, source: str = "") -> Any:
    """A freshly built network (CPU, eval mode) with the safetensors ``weights`` loaded strictly."""
    network = build_network(spec, metadata, source)
    load_weights(network, read_weights(weights, source), spec.name, source)
    return network.eval()


def weights_bytes(network: Any) -> bytes:
    """The network's state dict as safetensors bytes (CPU copies, contiguous, no shared storage)."""
    import torch
    from safetensors.torch import save

    state = network.state_dict()
    odd = [key for key, value in state.items() if not isinstance(value, torch.Tensor)]
    if odd:
        raise UsageError(f"the network's state holds '{odd[0]}', which is not a tensor",
                         "only tensors can be saved in a model package")
    return save({key: value.detach().to("cpu", copy=True).contiguous() for key, value in state.items()})


def read_weights(data: bytes, source: str = "") -> dict[str, Any]:
    from safetensors.torch import load

    try:
        return load(data)
    except Exception as exc:  # safetensors raises its own error type (and others for junk)
        raise InputFileError(f"{source}: weights.safetensors is not readable: {exc}",
                             "the package is damaged; download it again") from exc


def load_weights(network: Any, state: dict[str, Any], architecture: str, source: str = "") -> None:
    """Load ``state`` with strict=True after naming the first mismatches in words."""
    wanted = {key: tuple(value.shape) for key, value in network.state_dict().items()}
    given = {key: tuple(value.shape) for key, value in state.items()}
    problems = [f"missing '{k}'" for k in wanted if k not in given]
    problems += [f"unexpected '{k}'" for k in given if k not in wanted]
    problems += [f"'{k}' has shape {given[k]}, the network wants {wanted[k]}"
                 for k in wanted if k in given and given[k] != wanted[k]]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InputFileError(f"{source}: the weights do not fit architecture '{architecture}': "
                             f"{'; '.join(problems[:3])}{more}", WEIGHTS_HINT)
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InputFileError(f"{source}: the weights do not fit architecture '{architecture}': {exc}",
                             WEIGHTS_HINT) from exc
