"""Small models trained on the spot for the explorers, when no trained run folder is given: each written as a
run folder (weights and metrics) under the exploration run's output folder."""

from __future__ import annotations

from typing import Any

from helpers.common.files import CHECKPOINT
from helpers.config import GANConfig, VAEConfig
from helpers.data import Splits
from helpers.models import gan
from helpers.models.vae import VAE
from helpers.outputs import RunOutputs
from helpers.training.train import fit_gan, fit_vae, seed_everything


def train_small_vae(latent_dim: int, splits: Splits, config: Any) -> VAE:
    """A small VAE trained now (epochs and train_size from an ExploreConfig) into output_dir/vae_z<latent_dim>."""
    quick = VAEConfig(latent_dim=latent_dim, epochs=config.epochs, train_size=config.train_size, seed=config.seed,
                      device=config.device, dataset=config.dataset, data_dir=config.data_dir,
                      output_dir=str(config.output_path / f"vae_z{latent_dim}"))
    seed_everything(quick.seed)
    model = VAE(latent_dim, quick.hidden_dim, quick.activation).to(quick.torch_device)
    history = fit_vae(model, splits, quick, quick.output_path / CHECKPOINT)
    out = RunOutputs.of(quick)
    out.save_weights({"model": model})
    out.write_metrics(quick, history, quick.torch_device)
    return model.cpu().eval()


def train_small_gan(auxiliary: bool, splits: Splits, config: Any) -> gan.Generator:
    """A small GAN (the conditional AC-GAN when auxiliary) trained now into output_dir/gan or output_dir/aux_gan."""
    quick = GANConfig(auxiliary=auxiliary, conditional=auxiliary, epochs=config.epochs, train_size=config.train_size,
                      seed=config.seed, device=config.device, dataset=config.dataset, data_dir=config.data_dir,
                      output_dir=str(config.output_path / ("aux_gan" if auxiliary else "gan")))
    seed_everything(quick.seed)
    generator, discriminator = (m.to(quick.torch_device) for m in gan.models_from_parameters(quick.to_dict()))
    history = fit_gan(generator, discriminator, splits, quick, quick.output_path / CHECKPOINT)
    out = RunOutputs.of(quick)
    out.save_weights({"generator": generator, "discriminator": discriminator})
    out.write_metrics(quick, history, quick.torch_device)
    return generator.cpu().eval()
