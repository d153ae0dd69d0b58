"""Every registered architecture, and the template users copy, meet the contract in
``ais_framework.testing``; the builtins also state their parameter count truthfully."""
from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import ais_framework
from ais_framework.plugins import get_registry
from ais_framework.specs import ArchitectureSpec
from ais_framework.testing import check_architecture, count_parameters

TEMPLATE = Path(ais_framework.__file__).parent / "templates" / "architecture_template.py"
BUILTINS = {"vggnet_s", "vggnet_m", "vggnet_l", "unet_s", "unet_m", "unet_l", "unet_lite", "resnet",
            "inceptionnet", "eman2", "pix2pix", "unet3d"}
BOX = 32


def registered() -> dict:
    return get_registry().specs("architecture")


def load_template():
    spec = importlib.util.spec_from_file_location("ais_fw_architecture_template", TEMPLATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def two_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_every_builtin_is_registered():
    assert BUILTINS <= set(registered()), f"missing: {sorted(BUILTINS - set(registered()))}"


@pytest.mark.parametrize("name", sorted(registered()))
def test_registered_architecture_meets_the_contract(name):
    result = check_architecture(name, box=BOX)
    assert result["params"] > 0 and result["name"] == name
    assert math.isfinite(result["loss_after"])
    module = sys.modules[registered()[name].source.module]
    if name in BUILTINS:  # the builtins state their size: keep it true
        assert module.PARAMETERS == result["params"], f"{name}.PARAMETERS is stale: {result['params']:_}"
        assert f"Parameters: {result['params']:,}" in module.__doc__, f"{name}: docstring states a stale count"
    if result["discriminator_params"] is not None and hasattr(module, "DISCRIMINATOR_PARAMETERS"):
        assert module.DISCRIMINATOR_PARAMETERS == result["discriminator_params"]


def test_default_architecture_is_registered_and_cheaper_than_vggnet_m():
    from ais_framework.training.run import DEFAULT_ARCHITECTURE

    default = count_parameters(registered()[DEFAULT_ARCHITECTURE].spec.build(1))
    assert default * 4 < count_parameters(registered()["vggnet_m"].spec.build(1))


def test_listing_architectures_does_not_import_torch():
    code = ("import sys; from ais_framework.api import list_plugins; "
            "names = [p['name'] for p in list_plugins()['plugins']]; "
            "assert 'unet_lite' in names, names; print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_pix2pix_generator_returns_logits_and_critic_takes_input_and_mask():
    spec = registered()["pix2pix"].spec
    generator, critic = spec.build(3).eval(), spec.discriminator(3).eval()
    x = torch.randn(1, 3, 64, 96) * 10
    with torch.inference_mode():
        logits = generator(x)
        patches = critic(torch.cat([x, torch.sigmoid(logits)], dim=1))
    assert logits.min() < 0 or logits.max() > 1, "output looks squashed (sigmoid/tanh); logits expected"
    assert patches.shape == (1, 1, 64 // 8 - 2, 96 // 8 - 2)


def test_unet3d_takes_any_slab_thickness():
    network = registered()["unet3d"].spec.build(5, base=4).eval()
    with torch.inference_mode():
        for slices in (1, 5, 7):
            assert network(torch.randn(1, 1, slices, 16, 24)).shape == (1, 1, slices, 16, 24)


def test_bad_depth_is_refused_clearly():
    with pytest.raises(ValueError, match="depth must be a positive number of slices"):
        registered()["unet_lite"].spec.build(0)


def test_template_meets_the_contract():
    (spec,) = load_template().ais_fw_architectures()
    assert isinstance(spec, ArchitectureSpec)
    result = check_architecture(spec, box=BOX)
    assert result["depths"] == [1, 3]



# ---- the checker catches broken networks ---------------------------------------------------

class Unused(nn.Module):
    def __init__(self, depth: int):
        super().__init__()
        self.used, self.forgotten = nn.Conv2d(depth, 1, 3, padding=1), nn.Conv2d(depth, 1, 1)

    def forward(self, x):
        return self.used(x)


class Float64(nn.Conv2d):
    def forward(self, x):
        return super().forward(x).double()


class Exploding(nn.Conv2d):
    def forward(self, x):
        return super().forward(x) * float("inf")


def random_width(depth: int) -> nn.Module:
    width = int(torch.randint(2, 64, ()))
    return nn.Sequential(nn.Conv2d(depth, width, 1), nn.Conv2d(width, 1, 1))


BROKEN = {
    "not a module": (lambda depth: print, "returned builtin_function_or_method, not a torch.nn.Module"),
    "two channels out": (lambda depth: nn.Conv2d(depth, 2, 1), r"gave output \(2, 2, 32, 33\); expected \(2, 1, 32, 33\)"),
    "pools without up-sampling": (lambda depth: nn.Sequential(nn.Conv2d(depth, 1, 1), nn.MaxPool2d(2)),
                                  r"expected \(2, 1, 32, 33\)"),
    "no parameters": (lambda depth: nn.Identity(), "the network has no parameters"),
    "float64": (lambda depth: Float64(depth, 1, 1), "output dtype is torch.float64"),
    "infinite": (lambda depth: Exploding(depth, 1, 1), "NaN or infinite"),
    "unused layer": (lambda depth: Unused(depth), "no gradient reaches forgotten.weight, forgotten.bias"),
    "build not repeatable": (random_width, "does not take the first one's weights"),
    "ignores depth": (lambda depth: nn.Conv2d(1, 1, 1), r"depth 3.*raised RuntimeError"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_checker_names_what_is_broken(case):
    build, message = BROKEN[case]
    spec = ArchitectureSpec(name="broken", title="Broken", build=build, size_multiple=1)
    with pytest.raises(AssertionError, match=message):
        check_architecture(spec, box=BOX)


@pytest.mark.parametrize("fields, message", [
    ({"name": "Bad Name"}, "must be lowercase letters"),
    ({"dims": ("2d", "4d")}, "must be a non-empty subset"),
    ({"dims": ("2d", "3d")}, "either 3D or 2D/2.5D"),
    ({"size_multiple": 0}, "size_multiple must be a positive int"),
])
def test_checker_refuses_bad_spec_fields(fields, message):
    spec = ArchitectureSpec(**{"name": "ok", "title": "OK", "build": lambda depth: nn.Conv2d(depth, 1, 1), **fields})
    with pytest.raises(AssertionError, match=message):
        check_architecture(spec, box=BOX)


def test_checker_refuses_a_discriminator_that_ignores_the_mask():
    spec = ArchitectureSpec(name="gan", title="GAN", build=lambda depth: nn.Conv2d(depth, 1, 3, padding=1),
                            size_multiple=1, discriminator=lambda depth: nn.Conv2d(depth, 1, 4, 2))
    with pytest.raises(AssertionError, match=r"discriminator: it does not take cat\(input, mask\), 2 channels"):
        check_architecture(spec, box=BOX)


def test_checker_reports_what_it_measured():
    result = check_architecture(load_template().ais_fw_architectures()[0], depth=5, box=20)
    assert result["depths"] == [1, 3, 5] and result["shape"] == (20, 21)
    assert result["params"] == count_parameters(load_template().build(5)) and result["discriminator_params"] is None
