"""train_network end to end on tiny CPU problems, and device resolution."""
import os
import signal

import numpy as np
import pytest
import torch
from torch import nn

from ais_framework.devices import DeviceChoice, cpu_has_fast_bf16, resolve_device
from ais_framework.errors import UsageError
from ais_framework.training.fit import TrainingResult, train_network


pytestmark = pytest.mark.usefixtures("one_thread")


def toy(n=48, box=16, depth=1, seed=0):
    """A learnable task: the feature is where the centre slice is positive; a border is ignored."""
    x = np.random.default_rng(seed).normal(size=(n, depth, box, box)).astype(np.float32)
    y = (x[:, depth // 2:depth // 2 + 1] > 0).astype(np.uint8)
    y[:, :, :2] = 2
    return x, y


def tiny_net(depth=1, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(depth, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))


def snapshot(network):
    return {k: v.detach().clone() for k, v in network.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)


def losses(result):
    return [entry["loss"] for entry in result.history]


def test_training_lowers_the_loss_and_reports_each_epoch():
    x, y = toy()
    seen = []
    result = train_network(tiny_net(), x, y, epochs=4, batch_size=8, lr=1e-2, progress=False, on_epoch=seen.append)
    assert isinstance(result, TrainingResult) and not result.interrupted
    assert [e["epoch"] for e in result.history] == [1, 2, 3, 4]
    assert losses(result)[-1] < 0.8 * losses(result)[0]
    assert result.history[-1]["recall"] > 0.7 and result.history[-1]["precision"] > 0.7
    assert set(result.history[0]) == {"epoch", "loss", "precision", "recall", "seconds"}
    assert [s["epoch"] for s in seen] == [1, 2, 3, 4] and seen[-1]["epochs"] == 4
    assert seen[-1]["best_loss"] == result.best_loss
    assert result.total_seconds > 0 and result.is_global_zero
    assert next(result.network.parameters()).device.type == "cpu"


@pytest.mark.parametrize("loss", ["dice", "bce_dice"])
def test_other_losses_train(loss):
    x, y = toy(n=16)
    result = train_network(tiny_net(), x, y, epochs=2, batch_size=8, lr=1e-2, loss=loss, progress=False)
    assert all(np.isfinite(losses(result)))


def test_same_seed_same_history():
    x, y = toy(n=32)
    runs = [train_network(lambda: tiny_net(seed=123), x, y, epochs=2, batch_size=8, seed=seed, progress=False)
            for seed in (5, 5, 6)]
    assert losses(runs[0]) == losses(runs[1])
    assert same_weights(runs[0].network.state_dict(), runs[1].network.state_dict())
    assert losses(runs[0]) != losses(runs[2])


def test_network_builders_are_seeded():
    x, y = toy(n=16)
    a, b = (train_network(lambda: tiny_net(seed=np.random.randint(1000)), x, y, epochs=1, batch_size=8,
                          seed=3, progress=False) for _ in range(2))
    assert losses(a) == losses(b)


def test_best_epoch_weights_are_returned():
    x, y = toy(n=32)
    network = tiny_net()
    states = {}

    def remember(info):
        states[info["epoch"]] = snapshot(network)

    result = train_network(network, x, y, epochs=4, batch_size=8, lr=0.3, progress=False, on_epoch=remember)
    best = int(np.argmin(losses(result))) + 1
    assert result.best_epoch == best and result.best_loss == min(losses(result))
    assert result.network is network
    assert same_weights(network.state_dict(), states[best])
    assert not same_weights(states[1], states[2])


def test_resume_starts_from_the_given_weights():
    x, y = toy(n=32)
    trained = train_network(tiny_net(), x, y, epochs=3, batch_size=8, lr=1e-2, progress=False)
    weights = snapshot(trained.network)
    frozen = train_network(tiny_net(seed=9), x, y, epochs=1, batch_size=8, lr=0.0, progress=False,
                           init_state_dict=weights)
    fresh = train_network(tiny_net(seed=9), x, y, epochs=1, batch_size=8, lr=0.0, progress=False)
    assert same_weights(frozen.network.state_dict(), weights)
    assert losses(frozen)[0] < losses(fresh)[0]


class PatchCritic(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(channels, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                                    nn.Conv2d(8, 1, 3, padding=1))

    def forward(self, x):
        return self.layers(x)


def test_gan_training_runs_with_manual_optimisation():
    x, y = toy(n=16, depth=3)
    network, critic = tiny_net(depth=3), PatchCritic(4)
    generator_before, critic_before = snapshot(network), snapshot(critic)
    result = train_network(network, x, y, epochs=2, batch_size=8, discriminator=critic, progress=False)
    assert len(result.history) == 2
    for entry in result.history:
        assert {"loss", "d_loss", "g_loss", "precision", "recall"} <= set(entry)
        assert all(np.isfinite(entry[k]) for k in ("loss", "d_loss", "g_loss"))
    assert not same_weights(snapshot(critic), critic_before)
    assert not same_weights(snapshot(result.network), generator_before)


def test_3d_network_trains():
    x = np.random.default_rng(0).normal(size=(8, 1, 4, 8, 8)).astype(np.float32)
    y = (x > 0).astype(np.uint8)
    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv3d(4, 1, 3, padding=1))
    result = train_network(network, x, y, epochs=2, batch_size=4, lr=1e-2, progress=False)
    assert len(result.history) == 2 and np.isfinite(result.best_loss)


def test_keyboard_interrupt_from_on_epoch_keeps_the_best_weights():
    x, y = toy(n=16)
    network = tiny_net()
    states = {}

    def stop_after_first(info):
        states[info["epoch"]] = snapshot(network)
        raise KeyboardInterrupt

    result = train_network(network, x, y, epochs=5, batch_size=8, progress=False, on_epoch=stop_after_first)
    assert result.interrupted and result.best_epoch == 1 and len(result.history) == 1
    assert same_weights(result.network.state_dict(), states[1])


def test_ctrl_c_stops_after_the_batch_and_restores_the_handler():
    x, y = toy(n=16)
    before = signal.getsignal(signal.SIGINT)
    result = train_network(tiny_net(), x, y, epochs=5, batch_size=8, progress=False,
                           on_epoch=lambda info: os.kill(os.getpid(), signal.SIGINT))
    assert result.interrupted and [e["epoch"] for e in result.history] == [1]
    assert signal.getsignal(signal.SIGINT) is before


def test_should_stop_mid_epoch_does_not_record_the_partial_epoch():
    x, y = toy(n=32)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) == 6  # during the second epoch (4 batches per epoch)

    result = train_network(tiny_net(), x, y, epochs=5, batch_size=8, progress=False, should_stop=should_stop)
    assert result.interrupted and len(calls) == 6
    assert [e["epoch"] for e in result.history] == [1] and result.best_epoch == 1


def test_extra_augment_hook_is_used():
    x, y = toy(n=8)
    seen = []

    def augment(sample, rng):
        seen.append(sample.shape)
        return sample

    train_network(tiny_net(), x, y, epochs=1, batch_size=4, progress=False, augment=augment)
    assert seen == [(1, 16, 16)] * 8


@pytest.mark.parametrize("shape", [(8, 1, 8, 8), (8, 1, 16, 16, 1)])
def test_labels_that_do_not_match_are_refused(shape):
    x = np.zeros((8, 1, 16, 16), np.float32)
    with pytest.raises(UsageError, match="labels"):
        train_network(tiny_net(), x, np.zeros(shape, np.uint8), epochs=1, progress=False)


def test_bad_label_values_are_refused():
    x, y = toy(n=4)
    y[0, 0, 5, 5] = 7
    with pytest.raises(UsageError, match="0 \\(background\\)"):
        train_network(tiny_net(), x, y, epochs=1, progress=False)


def test_cpu_and_auto_resolve_to_the_cpu_here():
    precision = "bf16-mixed" if cpu_has_fast_bf16() else "32-true"
    assert resolve_device("cpu") == DeviceChoice("cpu", 1, precision, "auto")
    if not torch.cuda.is_available():
        assert resolve_device("auto").accelerator == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:1", "cuda:0,1"])
def test_cuda_without_cuda_is_a_usage_error(device):
    with pytest.raises(UsageError, match="CUDA is not available"):
        resolve_device(device)


@pytest.mark.parametrize("device", ["tpu", "gpu0", "cuda:x", "cuda:-1", "cuda:0,0", "cuda:"])
def test_unknown_devices_are_usage_errors(device):
    with pytest.raises(UsageError, match="unknown device") as caught:
        resolve_device(device)
    assert "cuda:N" in caught.value.hint


def test_second_ctrl_c_stops_at_once_and_still_returns_the_best_weights():
    x, y = toy(n=32)
    before = signal.getsignal(signal.SIGINT)
    calls = []

    def press_twice():
        calls.append(1)
        if len(calls) == 6:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return False

    result = train_network(tiny_net(), x, y, epochs=5, batch_size=8, progress=False, should_stop=press_twice)
    assert result.interrupted and len(calls) == 6 and result.best_epoch == 1
    assert signal.getsignal(signal.SIGINT) is before
