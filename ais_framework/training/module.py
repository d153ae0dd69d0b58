"""The training system: a LightningModule around a network from the architecture registry.

The module owns the loss, the optimiser and the per-epoch metrics; the network (and, for
GAN-trained architectures such as Pix2pix, the discriminator) is passed in already built.

Ordinary networks use automatic optimisation with a masked loss (see ``losses.LOSSES``).
With a discriminator the module switches to manual optimisation and trains a conditional
GAN: the discriminator sees ``cat(input, mask)`` pairs, real masks being the labels (0/1)
and fake ones the generator's sigmoid output. At label-2 pixels the real mask is replaced
by the (detached) prediction, so real and fake pairs agree there and the discriminator
learns nothing from ignored pixels. The generator minimises an adversarial term plus
``gan_lambda`` × masked L1 against the labels.

Either way the reported ``loss`` is the chosen segmentation loss of the network's output,
so epochs (and architectures) stay comparable and the best epoch is chosen on it.
"""
from __future__ import annotations

from typing import Any

import lightning
import torch
import torch.nn.functional as F
from torch import nn

from .losses import confusion_counts, get_loss, masked_l1, precision_recall, target_and_mask


class SegmentationModule(lightning.LightningModule):
    """Trains ``network`` (N, C, ...) → (N, 1, ...) logits on uint8 labels {0, 1, 2}."""

    def __init__(self, network: nn.Module, loss: str = "bce", lr: float = 1e-3,
                 discriminator: nn.Module | None = None, gan_lambda: float = 100.0,
                 threshold: float = 0.5):
        super().__init__()
        self.save_hyperparameters(ignore=["network", "discriminator"])
        self.network = network
        self.discriminator = discriminator
        self.loss_fn = get_loss(loss)
        self.automatic_optimization = discriminator is None
        self._sums: dict[str, torch.Tensor] = {}
        self._summary: tuple[int, dict[str, float]] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def configure_optimizers(self) -> Any:
        lr = self.hparams.lr
        if self.discriminator is None:
            return torch.optim.Adam(self.network.parameters(), lr=lr)
        betas = (0.5, 0.999)  # the usual Pix2pix setting: a short momentum keeps the game stable
        return [torch.optim.Adam(self.network.parameters(), lr=lr, betas=betas),
                torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=betas)]

    # -- training ---------------------------------------------------------------------
    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        x, labels = batch
        if self.discriminator is None:
            logits = self.network(x)
            loss = self.loss_fn(logits, labels)
            extra: dict[str, torch.Tensor] = {}
        else:
            logits, extra = self._gan_step(x, labels)
            loss = self.loss_fn(logits.detach(), labels)
        self._accumulate(len(x), loss, logits, labels, extra)
        self.log("loss", loss.detach(), prog_bar=True, logger=False, batch_size=len(x))
        return loss if self.discriminator is None else None

    def _gan_step(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict]:
        opt_g, opt_d = self.optimizers()
        logits = self.network(x)
        fake = torch.sigmoid(logits)
        target, valid = target_and_mask(labels)
        real = target * valid + fake.detach() * (1.0 - valid)
        with self.toggled_optimizer(opt_d):
            d_loss = 0.5 * (_adversarial(self._critic(x, real), True)
                            + _adversarial(self._critic(x, fake.detach()), False))
            opt_d.zero_grad()
            self.manual_backward(d_loss)
            opt_d.step()
        with self.toggled_optimizer(opt_g):
            g_loss = (_adversarial(self._critic(x, fake), True)
                      + self.hparams.gan_lambda * masked_l1(logits, labels))
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            opt_g.step()
        return logits, {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}

    def _critic(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Discriminator logits for (input, mask) pairs, concatenated on the channel axis."""
        return self.discriminator(torch.cat([x, mask.to(x.dtype)], dim=1))

    # -- per-epoch metrics --------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        self._sums = {}
        self._summary = None

    def _accumulate(self, n: int, loss: torch.Tensor, logits: torch.Tensor,
                    labels: torch.Tensor, extra: dict[str, torch.Tensor]) -> None:
        values = {"loss": loss.detach().double() * n, **{k: v.double() * n for k, v in extra.items()},
                  "samples": torch.tensor(float(n), dtype=torch.float64, device=loss.device),
                  "counts": confusion_counts(logits.detach(), labels, self.hparams.threshold)}
        for key, value in values.items():
            self._sums[key] = self._sums[key] + value if key in self._sums else value

    def epoch_summary(self) -> dict[str, float]:
        """This epoch's loss (sample-weighted mean), precision and recall, summed over all
        devices. Every rank must call it (it may communicate); computed once per epoch."""
        if self._summary is not None and self._summary[0] == self.current_epoch:
            return self._summary[1]
        sums = {k: self.trainer.strategy.reduce(v, reduce_op="sum") for k, v in self._sums.items()}
        n = float(sums.pop("samples", torch.tensor(0.0)))
        counts = sums.pop("counts", torch.zeros(3))
        precision, recall = precision_recall(counts)
        summary = {k: float(v) / max(n, 1.0) for k, v in sums.items()}
        summary.update(precision=precision, recall=recall)
        self._summary = (self.current_epoch, summary)
        return summary

    def on_train_epoch_end(self) -> None:
        for key, value in self.epoch_summary().items():
            self.log(f"epoch_{key}", value, prog_bar=False)


def _adversarial(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """BCE of discriminator logits against all-real (1) or all-fake (0)."""
    scores = scores.float()
    target = torch.ones_like(scores) if real else torch.zeros_like(scores)
    return F.binary_cross_entropy_with_logits(scores, target)
