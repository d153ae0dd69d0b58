"""The contract every architecture plugin must meet, as a function its author can call in a test.

::

    from ais_framework.testing import check_architecture

    def test_my_network_meets_the_contract():
        check_architecture("my_network")          # by registered name, or pass the spec itself

``check_architecture`` builds the network and checks, with clear ``AssertionError`` messages:
the spec's fields; the output shape and float32 dtype (depth 1, and depth 3 for 2.5D, on a
non-square box so swapped axes show; (N, 1, D, H, W) for 3D networks); that it has
parameters; that one Adam step on a masked binary cross-entropy (label 2 = ignore) gives
every parameter a gradient, keeps the loss finite and changes the weights; that eval mode
works on a batch of one; and that the weights load into a freshly built copy with the same
result (how saved models are loaded). A GAN architecture's discriminator is checked too.

This module imports torch (it is meant for tests); the rest of ``ais_framework`` does not.
"""
from __future__ import annotations

import copy
import math
import re
from typing import Any

import torch
from torch import nn

DIMS = {"2d", "2.5d", "3d"}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def count_parameters(module: nn.Module) -> int:
    """The number of parameters (weights and biases) in ``module``; buffers such as running means are not counted."""
    return sum(p.numel() for p in module.parameters())


def check_architecture(spec_or_name: Any, depth: int = 1, box: int = 64) -> dict[str, Any]:
    """Check an architecture against the contract; returns what was measured.

    ``spec_or_name``: an :class:`~ais_framework.specs.ArchitectureSpec` or a registered name.
    ``depth``: slices per input, checked besides 1 (2D) and 3 (2.5D) where ``dims`` has them.
    For a 3D network it is passed to ``build`` and the input is (N, 1, D, H, W) with
    D = ``size_multiple`` slices.
    ``box``: the height of the test input, rounded up to a multiple of ``spec.size_multiple``;
    the width is one multiple more, so that the box is not square.

    Returns, for ``depth``: ``{"name", "params", "shape" (H, W), "depths" (all checked),
    "loss_before", "loss_after", "discriminator_params" (None without a discriminator)}``.
    Raises ``AssertionError`` naming what broke.
    """
    spec = _resolve(spec_or_name)
    _check_fields(spec)
    shape = _box_shape(spec, box)
    depths = _depths(spec, depth)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        results = {d: _check_depth(spec, d, shape) for d in depths}
    return {"name": spec.name, "shape": shape, "depths": depths, "discriminator_params": None, **results[depth]}


def _resolve(spec_or_name: Any) -> Any:
    if isinstance(spec_or_name, str):
        from .plugins import get_registry

        return get_registry().get("architecture", spec_or_name)
    return spec_or_name


def _check_fields(spec: Any) -> None:
    name = getattr(spec, "name", None)
    assert getattr(spec, "kind", None) == "architecture", f"{spec!r} is not an ArchitectureSpec"
    assert isinstance(name, str) and NAME_PATTERN.match(name), \
        f"architecture name {name!r} must be lowercase letters, digits and '_' (it is stored in saved models)"
    assert isinstance(spec.title, str) and spec.title.strip(), f"{name}: the title is empty"
    assert callable(spec.build), f"{name}: build is not callable"
    dims = tuple(spec.dims)
    assert dims and set(dims) <= DIMS, f"{name}: dims {dims!r} must be a non-empty subset of {sorted(DIMS)}"
    assert not ("3d" in dims and len(dims) > 1), f"{name}: a network is either 3D or 2D/2.5D, not both: {dims!r}"
    multiple = spec.size_multiple
    assert isinstance(multiple, int) and multiple >= 1, \
        f"{name}: size_multiple must be a positive int, not {multiple!r}"
    assert spec.discriminator is None or callable(spec.discriminator), f"{name}: discriminator is not callable"


def _box_shape(spec: Any, box: int) -> tuple[int, int]:
    multiple = spec.size_multiple
    height = max(multiple, math.ceil(box / multiple) * multiple)
    return height, height + multiple


def _depths(spec: Any, depth: int) -> list[int]:
    if "3d" in spec.dims:
        return [depth]
    wanted = {depth}
    if "2d" in spec.dims:
        wanted.add(1)
    if "2.5d" in spec.dims:
        wanted.add(3)
    return sorted(wanted)


def _input(spec: Any, depth: int, shape: tuple[int, int], batch: int) -> torch.Tensor:
    """(N, depth, H, W) for 2D/2.5D; (N, 1, D, H, W) for 3D with D = size_multiple slices."""
    if "3d" in spec.dims:
        return torch.randn(batch, 1, spec.size_multiple, *shape)
    return torch.randn(batch, depth, *shape)


def _build(spec: Any, depth: int, positional: bool = False) -> nn.Module:
    try:  # the framework calls both build(depth, **options) and build(depth=depth)
        network = spec.build(depth) if positional else spec.build(depth=depth)
    except Exception as exc:
        raise AssertionError(f"{spec.name}: build({depth}) raised {type(exc).__name__}: {exc}") from exc
    assert isinstance(network, nn.Module), \
        f"{spec.name}: build({depth}) returned {type(network).__name__}, not a torch.nn.Module"
    return network


def _check_depth(spec: Any, depth: int, shape: tuple[int, int]) -> dict[str, Any]:
    where = f"{spec.name} (depth {depth}, box {shape[0]}x{shape[1]})"
    network = _build(spec, depth)
    params = count_parameters(network)
    assert params > 0, f"{where}: the network has no parameters"
    x = _input(spec, depth, shape, batch=2)
    network.train()
    _forward(network, x, where)
    losses = _train_step(network, x, where)
    _check_eval(network, _input(spec, depth, shape, batch=1), where)
    _check_reload(spec, depth, network, x, where)
    result = {"params": params, **losses}
    if spec.discriminator is not None:
        result["discriminator_params"] = _check_discriminator(spec, depth, network, x, where)
    return result


def _forward(network: nn.Module, x: torch.Tensor, where: str) -> torch.Tensor:
    expected = (x.shape[0], 1, *x.shape[2:])
    try:
        out = network(x)
    except Exception as exc:
        raise AssertionError(f"{where}: forward of an input of shape {tuple(x.shape)} raised "
                             f"{type(exc).__name__}: {exc}") from exc
    assert isinstance(out, torch.Tensor), f"{where}: forward returned {type(out).__name__}, not a tensor"
    assert tuple(out.shape) == expected, \
        f"{where}: input {tuple(x.shape)} gave output {tuple(out.shape)}; expected {expected} (one logit per pixel)"
    assert out.dtype == torch.float32, f"{where}: output dtype is {out.dtype}, expected torch.float32"
    assert torch.isfinite(out).all(), f"{where}: the output has NaN or infinite values"
    return out


def masked_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on logits over pixels whose label is 0 or 1 (2 = ignore)."""
    keep = labels != 2
    return nn.functional.binary_cross_entropy_with_logits(logits[keep], labels[keep].float())


def _labels_for(out_shape: tuple[int, ...]) -> torch.Tensor:
    return torch.randint(0, 3, out_shape)


def _train_step(network: nn.Module, x: torch.Tensor, where: str) -> dict[str, float]:
    labels = _labels_for((x.shape[0], 1, *x.shape[2:]))
    trainable = [(n, p) for n, p in network.named_parameters() if p.requires_grad]
    assert trainable, f"{where}: no parameter requires a gradient"
    before = {n: p.detach().clone() for n, p in trainable}
    optimiser = torch.optim.Adam([p for _, p in trainable], lr=1e-3)
    optimiser.zero_grad()
    loss = masked_bce(_forward(network, x, where), labels)
    assert torch.isfinite(loss), f"{where}: the masked BCE loss is {loss.item()}"
    loss.backward()
    missing = [n for n, p in trainable if p.grad is None]
    assert not missing, f"{where}: no gradient reaches {_some(missing)} (unused layers, or a detached path)"
    bad = [n for n, p in trainable if not torch.isfinite(p.grad).all()]
    assert not bad, f"{where}: NaN or infinite gradients in {_some(bad)}"
    optimiser.step()
    unchanged = [n for n, p in trainable if torch.equal(p.detach(), before[n])]
    assert len(unchanged) < len(trainable), f"{where}: one Adam step changed no weight"
    after = masked_bce(_forward(network, x, where), labels)
    assert torch.isfinite(after), f"{where}: after one training step the loss is {after.item()}"
    return {"loss_before": loss.item(), "loss_after": after.item()}


def _check_eval(network: nn.Module, x: torch.Tensor, where: str) -> None:
    network.eval()
    with torch.inference_mode():
        _forward(network, x, f"{where}, eval mode, batch 1")


def _check_reload(spec: Any, depth: int, network: nn.Module, x: torch.Tensor, where: str) -> None:
    """Saved models are rebuilt with ``build(depth)`` and given the saved state dict."""
    state = copy.deepcopy(network.state_dict())
    twin = _build(spec, depth, positional=True)
    try:
        twin.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise AssertionError(f"{where}: a second build({depth}) does not take the first one's weights: {exc}") from exc
    network.eval()
    twin.eval()
    with torch.inference_mode():
        same = torch.allclose(network(x), twin(x), rtol=1e-4, atol=1e-5)
    assert same, f"{where}: a rebuilt network with the same weights gives a different output"


def _check_discriminator(spec: Any, depth: int, generator: nn.Module, x: torch.Tensor, where: str) -> int:
    where = f"{where}, discriminator"
    try:
        critic = spec.discriminator(depth=depth)
    except Exception as exc:
        raise AssertionError(f"{where}: discriminator({depth}) raised {type(exc).__name__}: {exc}") from exc
    assert isinstance(critic, nn.Module), f"{where}: discriminator({depth}) is not a torch.nn.Module"
    params = count_parameters(critic)
    assert params > 0, f"{where}: it has no parameters"
    generator.train()
    critic.train()
    generator.zero_grad(set_to_none=True)
    fake = torch.sigmoid(generator(x))
    try:
        score = critic(torch.cat([x, fake], dim=1))
    except Exception as exc:
        raise AssertionError(f"{where}: it does not take cat(input, mask), {x.shape[1] + 1} channels: "
                             f"{type(exc).__name__}: {exc}") from exc
    assert score.dim() == x.dim() and score.shape[:2] == (x.shape[0], 1), \
        f"{where}: output shape {tuple(score.shape)}; expected (N, 1, h, w) patch logits"
    assert score.dtype == torch.float32 and torch.isfinite(score).all(), f"{where}: output not finite float32"
    loss = nn.functional.binary_cross_entropy_with_logits(score, torch.ones_like(score))
    loss.backward()
    reached = [p.grad is not None for p in generator.parameters()]
    assert all(reached), f"{where}: the adversarial loss does not reach the generator's weights"
    return params


def _some(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
