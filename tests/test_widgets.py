"""The ipywidgets explorers, driven without a kernel: move a control, check the picture is the model's output."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import NOTEBOOKS
from helpers.config import ExploreConfig
from helpers.data import Split, Splits
from helpers.explorers import widgets
from helpers.models import gan
from helpers.models.vae import VAE, latent_means, load_vae


@pytest.fixture(scope="module")
def validation() -> Split:
    """A small stand-in validation set: 200 random images, 20 of each digit."""
    generator = torch.Generator().manual_seed(1)
    return Split(torch.rand(200, 784, generator=generator), torch.arange(200) % 10)


def vae(latent_dim: int, hidden_dim: int = 64) -> VAE:
    """An untrained VAE with fixed weights."""
    torch.manual_seed(latent_dim)
    return VAE(latent_dim, hidden_dim).eval()


def pixels(png: bytes) -> np.ndarray:
    """The grey levels of a PNG image."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def expected(model: VAE, z: list[float] | torch.Tensor) -> bytes:
    """The PNG the explorer should show for latent point z: the decoder's means."""
    with torch.no_grad():
        return widgets.to_png(torch.sigmoid(model.decode(torch.as_tensor(z, dtype=torch.float32)[None]))[0])


def test_to_png_draws_ink_dark_at_the_scale():
    image = torch.zeros(784)
    image[0] = 1.0
    grey = pixels(widgets.to_png(image))
    assert grey.shape == (28 * widgets.SCALE, 28 * widgets.SCALE)
    assert grey[0, 0] == 0 and grey[widgets.SCALE - 1, widgets.SCALE - 1] == 0 and grey[-1, -1] == 255


def test_latent2_sliders_show_the_decoder_output_and_move_the_marker(validation):
    model = vae(2)
    explorer = widgets.VAEExplorer(model, validation)
    sliders = explorer.sliders
    assert [s.min for s in sliders.sliders] == [-3.0, -3.0] and [s.max for s in sliders.sliders] == [3.0, 3.0]
    image = sliders.image.value
    assert image == expected(model, [0.0, 0.0])
    sliders.sliders[0].value, sliders.sliders[1].value = 1.5, -0.5
    assert sliders.image.value != image and sliders.image.value == expected(model, [1.5, -0.5])
    rgb = np.asarray(Image.open(io.BytesIO(sliders.map_image.value)).convert("RGB")).astype(int)
    changed = np.argwhere((rgb != sliders.latent_map.background).any(-1))
    x, y = sliders.latent_map.pixel([1.5, -0.5])
    assert abs(changed[:, 1].mean() - x) < 2 and abs(changed[:, 0].mean() - y) < 2  # the ring sits on the point


def test_latent_map_places_points_on_the_axes(validation):
    latent_map = widgets.LatentMap(torch.zeros(10, 2), torch.arange(10), limit=3.0)
    (x0, y0), (x1, y1) = latent_map.pixel([0, 0]), latent_map.pixel([1, 1])
    assert x1 > x0 and y1 < y0  # z1 grows to the right, z2 upwards
    assert abs((x1 - x0) + (y1 - y0)) < 1.0  # equal aspect: one unit is as long on both axes


def test_binary_toggle_draws_zeros_and_ones(validation):
    explorer = widgets.VAEExplorer(vae(2), validation)
    assert len(np.unique(pixels(explorer.sliders.image.value))) > 2  # means by default: grey levels
    explorer.sliders.binary.value = True
    assert set(np.unique(pixels(explorer.sliders.image.value))) <= {0, 255}


def test_latent20_prior_reset_and_principal_directions(validation):
    model = vae(20)
    explorer = widgets.VAEExplorer(model, validation, seed=3)
    assert len(explorer.sliders.sliders) == 20 and explorer.sliders.map_image is None
    explorer.prior_button.click()
    draw = torch.randn(20, generator=torch.Generator().manual_seed(3)).clamp(-3, 3)
    assert torch.allclose(explorer.sliders.point(), draw, atol=0.025 + 1e-6)  # the nearest slider positions
    assert explorer.sliders.image.value == expected(model, explorer.sliders.point())
    explorer.reset_button.click()
    assert explorer.sliders.point().abs().max() == 0
    explorer.mode.value = "principal directions"
    means = latent_means(model, validation.images)
    centre, axes = widgets.principal_directions(means)
    assert torch.allclose(explorer.sliders.point(), centre, atol=1e-5)
    explorer.sliders.sliders[0].value = 2.0
    assert torch.allclose(explorer.sliders.point(), centre + 2.0 * axes[0], atol=1e-5)
    unit = axes[0] / axes[0].norm()
    assert abs(((means - centre) @ unit).std() - axes[0].norm()) < 1e-4  # one slider unit is one standard deviation
    assert explorer.sliders.image.value == expected(model, centre + 2.0 * axes[0])


def test_interpolation_decodes_the_mix_of_two_encoded_images(validation):
    model = vae(20)
    explorer = widgets.VAEExplorer(model, validation)
    explorer.start_index.value, explorer.end_index.value = 4, 9
    explorer.interpolation.alpha.value = 0.25
    with torch.no_grad():
        start, end = model.encode(validation.images[[4, 9]])[0]
    assert explorer.interpolation.mix_image.value == expected(model, 0.75 * start + 0.25 * end)
    explorer.interpolation.alpha.value = 1.0
    assert explorer.interpolation.mix_image.value == expected(model, end)


@pytest.mark.parametrize("classes", [0, 10])
def test_gan_sliders_follow_the_leading_noise_directions(classes):
    torch.manual_seed(0)
    generator = gan.Generator(noise_dim=16, hidden_dim=32, num_classes=classes).eval()
    explorer = widgets.GANExplorer(generator, directions=4)
    sliders = explorer.sliders
    labels = torch.tensor([explorer.digit.value]) if classes else None

    def shown(z: torch.Tensor) -> bytes:
        with torch.no_grad():
            return widgets.to_png(gan.to_unit(generator(z[None], labels))[0])

    jacobian = torch.autograd.functional.jacobian(lambda z: gan.to_unit(generator(z[None], labels))[0], sliders.origin)
    top = torch.linalg.svd(jacobian)[2][:4]
    assert torch.allclose((top @ sliders.directions.T).abs(), torch.eye(4), atol=1e-3)  # the leading directions
    before = sliders.image.value
    sliders.sliders[1].value = 2.0
    assert sliders.image.value != before and sliders.image.value == shown(sliders.origin + 2.0 * sliders.directions[1])
    explorer.interpolation.alpha.value = 0.3
    mix = 0.7 * explorer.interpolation.start + 0.3 * explorer.interpolation.end
    assert explorer.interpolation.mix_image.value == shown(mix)
    if classes:
        explorer.digit.value = 8
        labels = torch.tensor([8])
        assert explorer.interpolation.mix_image.value == shown(mix)
    old_origin = sliders.origin
    explorer.noise_button.click()
    assert not torch.equal(sliders.origin, old_origin) and all(s.value == 0 for s in sliders.sliders)


def test_untrained_run_folders_load(untrained_runs):
    model = load_vae(untrained_runs["vae_z20"])
    assert model.latent_dim == 20 and not model.training
    assert gan.load_generator(untrained_runs["aux_gan"]).num_classes == 10


def test_missing_run_folder_is_refused_in_one_line(tmp_path):
    with pytest.raises(ValueError, match="vae_z2_dir=.* is not a finished run folder"):
        ExploreConfig(vae_z2_dir=str(tmp_path))


def test_empty_folder_trains_a_small_model_into_output_dir(tmp_path, validation):
    splits = Splits(validation, validation, validation)
    config = ExploreConfig(epochs=1, train_size=200, output_dir=str(tmp_path), device="cpu")
    model = widgets.vae_to_explore("", 2, splits, config)
    reloaded = load_vae(tmp_path / "vae_z2")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), reloaded.state_dict().values()))
    generator = widgets.generator_to_explore("", True, splits, config)
    assert generator.num_classes == 10 and (tmp_path / "aux_gan" / "weights.pt").exists()


@pytest.mark.slow
def test_notebook_runs_headless_with_run_folders(untrained_runs, tmp_path):
    import json

    import papermill

    params = {f"{name}_dir": str(path) for name, path in untrained_runs.items()} | {"output_dir": str(tmp_path)}
    papermill.execute_notebook(str(NOTEBOOKS / "explore.ipynb"), str(tmp_path / "explore.ipynb"), parameters=params,
                               kernel_name="python3", progress_bar=False, execution_timeout=300)
    latency = json.loads((tmp_path / "metrics.json").read_text())["update_latency_ms"]
    assert set(latency) == {"vae_z2", "vae_z20", "gan", "aux_gan"} and all(v > 0 for v in latency.values())
