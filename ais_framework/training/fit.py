"""``train_network``: the one call that trains a segmentation network on arrays.

It wires a :class:`SegmentationModule`, a :class:`SegmentationDataModule` and a quiet
``lightning.Trainer`` together and returns the network holding the weights of its
best-loss epoch. No checkpoint files are written: the best weights are kept in memory
(on the CPU) and the caller saves the model package.

Stopping early: Ctrl-C (in the main thread), a ``should_stop()`` that returns True, or a
``KeyboardInterrupt`` raised by ``on_epoch`` ends training after the current batch; a
second Ctrl-C stops at once. The result then has ``interrupted=True`` and the best
weights of the epochs that finished. An epoch cut short is not recorded.
"""
from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import lightning
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm
from torch import nn

from ..devices import resolve_device
from ..errors import UsageError
from .datamodule import ExtraAugment, SegmentationDataModule
from .module import SegmentationModule

EpochCallback = Callable[[dict[str, Any]], Any]


@dataclass
class TrainingResult:
    """What training produced. ``network`` holds the best epoch's weights, on the CPU.

    ``history`` has one dict per finished epoch: epoch (from 1), loss, precision, recall,
    seconds (and d_loss, g_loss for GAN training). ``best_epoch`` is None when no epoch
    finished. Under several GPUs (ddp) every process returns a result; only the one with
    ``is_global_zero`` should save anything."""

    network: nn.Module
    best_epoch: int | None
    best_loss: float
    history: list[dict[str, float]] = field(default_factory=list)
    interrupted: bool = False
    total_seconds: float = 0.0
    is_global_zero: bool = True


@dataclass
class _Stop:
    requested: bool = False


def train_network(network: nn.Module | Callable[[], nn.Module], inputs: np.ndarray, labels: np.ndarray, *,
                  epochs: int = 25, batch_size: int = 32, lr: float = 1e-3, loss: str = "bce",
                  seed: int = 0, device: str = "auto",
                  discriminator: nn.Module | Callable[[], nn.Module] | None = None,
                  progress: bool = True, on_epoch: EpochCallback | None = None,
                  init_state_dict: dict[str, torch.Tensor] | None = None,
                  augment: bool | ExtraAugment | None = None,
                  should_stop: Callable[[], bool] | None = None) -> TrainingResult:
    """Train ``network`` on ``inputs``/``labels`` and return it with its best-loss weights.

    ``network`` and ``discriminator`` may be zero-argument builders: they are then built
    after seeding, so the same ``seed`` gives the same initial weights and history.
    ``augment``: True for the builtin extra augmentations, or ``fn(input, rng) -> input``;
    the dihedral flips/rotations are always on. ``on_epoch(info)`` is called after each
    epoch with the history entry plus ``epochs``, ``best_epoch`` and ``best_loss``.
    """
    inputs, labels = _checked_arrays(inputs, labels, epochs, batch_size)
    choice = resolve_device(device)
    started = time.perf_counter()
    with _quiet_lightning():
        lightning.seed_everything(seed, verbose=False)
        network, discriminator = _built(network), _built(discriminator)
        if init_state_dict is not None:
            network.load_state_dict(init_state_dict)
        else:
            init_output_bias(network, labels)
        module = SegmentationModule(network, loss=loss, lr=lr, discriminator=discriminator)
        data = SegmentationDataModule(inputs, labels, batch_size, seed, _extra_augment(augment))
        stop = _Stop()
        best = _BestWeights(epochs, on_epoch, stop, should_stop)
        trainer = _trainer(choice, epochs, best, progress, gan=discriminator is not None, stop=stop)
        with _cpu_threads(choice.accelerator), _ctrl_c_stops(stop):
            _fit(trainer, module, data, stop)
    result = _result(network, best, stop, time.perf_counter() - started, trainer.is_global_zero)
    recalibrate_batchnorm(result.network, inputs, batch_size)
    return result


def init_output_bias(network: nn.Module, labels: np.ndarray) -> None:
    """Start the output layer's bias at the logit of the feature's share of labelled pixels.

    Thin features (membranes) cover a few per cent of a box; starting from logit 0 the
    network would spend its first hundreds of steps only learning that prior.
    """
    last = [m for m in network.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    if not last or last[-1].out_channels != 1 or last[-1].bias is None:
        return
    labelled = labels[labels < 2]
    share = float(np.clip((labelled == 1).mean() if labelled.size else 0.5, 0.01, 0.99))
    with torch.no_grad():
        last[-1].bias.fill_(math.log(share / (1.0 - share)))


def recalibrate_batchnorm(network: nn.Module, inputs: np.ndarray, batch_size: int = 32) -> None:
    """Recompute BatchNorm running statistics for the final weights ("precise BN").

    The running averages kept during training lag behind the changing weights; one pass
    over the training inputs in train mode with a cumulative average fixes the train/eval gap.
    """
    norms = [m for m in network.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    was_training = network.training
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    network.train()
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            network(torch.from_numpy(np.ascontiguousarray(inputs[start:start + batch_size])))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    network.train(was_training)


def _fit(trainer: lightning.Trainer, module: SegmentationModule, data: SegmentationDataModule,
         stop: _Stop) -> None:
    try:
        trainer.fit(module, datamodule=data)
    except SystemExit:  # Lightning exits after a KeyboardInterrupt (a second Ctrl-C)
        if not stop.requested:
            raise


def _result(network: nn.Module, best: "_BestWeights", stop: _Stop, seconds: float,
            is_global_zero: bool) -> TrainingResult:
    network.cpu()
    if best.state is not None:
        network.load_state_dict(best.state)
    return TrainingResult(network, best.epoch, best.loss, best.history, stop.requested, seconds,
                          is_global_zero)


def _built(network: Any) -> Any:
    if network is None or isinstance(network, nn.Module):
        return network
    if callable(network):
        return network()
    raise UsageError(f"expected a torch.nn.Module or a function building one, not {type(network).__name__}")


def _checked_arrays(inputs: np.ndarray, labels: np.ndarray, epochs: int,
                    batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    inputs, labels = np.asarray(inputs, dtype=np.float32), np.asarray(labels)
    if inputs.ndim not in (4, 5) or len(inputs) == 0:
        raise UsageError(f"training inputs must be (N, depth, H, W) or (N, 1, D, H, W), not {inputs.shape}")
    wanted = inputs.shape if inputs.ndim == 5 else (len(inputs), 1, *inputs.shape[2:])
    if labels.shape != wanted:
        raise UsageError(f"labels of shape {labels.shape} do not match inputs {inputs.shape}",
                         f"expected labels of shape {wanted}")
    if labels.min() < 0 or labels.max() > 2:
        raise UsageError("labels must hold 0 (background), 1 (feature) or 2 (ignore)")
    if epochs < 1 or batch_size < 1:
        raise UsageError(f"epochs ({epochs}) and batch size ({batch_size}) must be at least 1")
    return inputs, labels.astype(np.uint8, copy=False)


def _extra_augment(augment: bool | ExtraAugment | None) -> ExtraAugment | None:
    if augment is None or augment is False:
        return None
    if augment is True:
        from .augment import extra_augment

        return extra_augment
    if callable(augment):
        return augment
    raise UsageError("augment must be True, False or a function (input, rng) -> input")


class _BestWeights(Callback):
    """Records each finished epoch, keeps the best-loss weights in memory, reports progress
    and turns stop requests into a stop after the current batch."""

    def __init__(self, epochs: int, on_epoch: EpochCallback | None, stop: _Stop,
                 should_stop: Callable[[], bool] | None):
        self.epochs, self.on_epoch, self.stop, self.should_stop = epochs, on_epoch, stop, should_stop
        self.history: list[dict[str, float]] = []
        self.state: dict[str, torch.Tensor] | None = None
        self.epoch: int | None = None
        self.loss = math.inf
        self._started, self._batches = 0.0, 0

    def on_train_epoch_start(self, trainer: lightning.Trainer, module: Any) -> None:
        self._started, self._batches = time.perf_counter(), 0

    def on_train_batch_end(self, trainer: lightning.Trainer, module: Any, *args: Any) -> None:
        self._batches += 1
        if self.should_stop is not None and self.should_stop():
            self.stop.requested = True
        self._agree_to_stop(trainer)

    def on_train_epoch_end(self, trainer: lightning.Trainer, module: SegmentationModule) -> None:
        summary = module.epoch_summary()
        if self._batches < trainer.num_training_batches:  # cut short by a stop request
            return
        entry = {"epoch": trainer.current_epoch + 1, **summary,
                 "seconds": time.perf_counter() - self._started}
        self.history.append(entry)
        if summary["loss"] < self.loss:  # NaN never wins
            self.loss, self.epoch = summary["loss"], entry["epoch"]
            self.state = {k: v.detach().to("cpu", copy=True) for k, v in module.network.state_dict().items()}
        if self.on_epoch is not None and trainer.is_global_zero:
            self._report(entry)
        self._agree_to_stop(trainer)

    def _report(self, entry: dict[str, float]) -> None:
        try:
            self.on_epoch({**entry, "epochs": self.epochs, "best_epoch": self.epoch, "best_loss": self.loss})
        except KeyboardInterrupt:
            self.stop.requested = True

    def _agree_to_stop(self, trainer: lightning.Trainer) -> None:
        """Every process stops at the same batch (a lone stop would hang ddp)."""
        if trainer.world_size > 1:
            self.stop.requested = bool(trainer.strategy.reduce_boolean_decision(self.stop.requested, all=False))
        if self.stop.requested:
            trainer.should_stop = True


class _EpochBar(TQDMProgressBar):
    """Lightning's bar on stderr (stdout stays for data), counting epochs from 1 and
    showing the ETA of the whole run."""

    def __init__(self, stop: _Stop):
        super().__init__()
        self.stop, self._t0, self._done = stop, 0.0, 0

    def init_train_tqdm(self) -> Tqdm:
        return Tqdm(desc=self.train_description, position=2 * self.process_position, disable=self.is_disabled,
                    leave=True, dynamic_ncols=True, file=sys.stderr, smoothing=0, bar_format=self.BAR_FORMAT)

    def on_train_start(self, trainer: lightning.Trainer, module: Any) -> None:
        super().on_train_start(trainer, module)
        self._t0, self._done = time.perf_counter(), 0

    def on_train_epoch_start(self, trainer: lightning.Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.set_description(f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}")

    def on_train_batch_end(self, trainer: lightning.Trainer, *args: Any) -> None:
        self._done += 1
        super().on_train_batch_end(trainer, *args)

    def get_metrics(self, trainer: lightning.Trainer, module: Any) -> dict[str, Any]:
        items = super().get_metrics(trainer, module)
        items.pop("v_num", None)
        total = trainer.max_epochs * trainer.num_training_batches
        if self._done and math.isfinite(total):
            left = (time.perf_counter() - self._t0) / self._done * (total - self._done)
            items["total_eta"] = time.strftime("%H:%M:%S", time.gmtime(max(left, 0.0)))
        if self.stop.requested:
            items["stopping"] = "after this batch (Ctrl-C again: now)"
        return items


def _trainer(choice: Any, epochs: int, best: _BestWeights, progress: bool, gan: bool,
             stop: _Stop) -> lightning.Trainer:
    show_bar = progress and _is_terminal()
    strategy = choice.strategy
    if gan and strategy == "ddp":  # the discriminator step leaves the generator unused
        strategy = "ddp_find_unused_parameters_true"
    callbacks = [best, _EpochBar(stop)] if show_bar else [best]
    return lightning.Trainer(
        accelerator=choice.accelerator, devices=choice.devices, precision=choice.precision,
        strategy=strategy, max_epochs=epochs, callbacks=callbacks, logger=False,
        enable_checkpointing=False, enable_model_summary=False, enable_progress_bar=show_bar,
        num_sanity_val_steps=0, use_distributed_sampler=False, log_every_n_steps=1)


def _is_terminal() -> bool:
    try:
        return os.isatty(2)
    except (OSError, ValueError):
        return False


@contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Hide Lightning's info chatter (GPU available, seed set, ...); keep its warnings."""
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric", "lightning")]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=r".*is smaller than the logging interval.*")
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated.*")
            yield
    finally:
        for log, level in zip(loggers, levels):
            log.setLevel(level)


@contextmanager
def _cpu_threads(accelerator: str) -> Iterator[None]:
    """On the CPU use the cores this process may run on (torch may count the host's)."""
    before = torch.get_num_threads()
    if accelerator != "cpu" or "OMP_NUM_THREADS" in os.environ:
        yield
        return
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(max(1, min(before, available)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def _ctrl_c_stops(stop: _Stop) -> Iterator[None]:
    """While training, a first Ctrl-C asks to stop after the batch; a second stops now."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
