"""ipywidgets explorers of the trained models: sliders over latent or noise directions, an α slider between
two points, and for the latent-2 VAE the validation set's latent map with a marker at the current point.

Each update decodes one point and sends the image as PNG bytes to an ``ipywidgets.Image``; no matplotlib
runs per update (the latent map is drawn once and only its marker is redrawn), so an update takes a few
milliseconds on a CPU. The explorers need a kernel; the report's kernel-free twins
are JavaScript (report/templates/explorers/) fed by ``helpers.explorers.payloads``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ipywidgets as w
import numpy as np
import torch
from PIL import Image

from helpers.config import ExploreConfig
from helpers.data import Split, Splits
from helpers.explorers.payloads import LatentMap, encode_png, leading_directions, principal_directions
from helpers.models.vae import VAE, latent_means, load_vae

Decoder = Callable[[torch.Tensor], torch.Tensor]  # latent points (n, d) -> pixel values (n, 784) in [0, 1]
SCALE = 6  # each of the 28 x 28 pixels is drawn as SCALE x SCALE screen pixels


def to_png(pixels: torch.Tensor | np.ndarray, scale: int = SCALE) -> bytes:
    """PNG bytes of one 784-pixel image in [0, 1], ink dark on white as in the report's figures."""
    values = pixels.detach().cpu().numpy() if isinstance(pixels, torch.Tensor) else np.asarray(pixels)
    grey = np.rint(255.0 * (1.0 - np.clip(values.reshape(28, 28), 0.0, 1.0))).astype(np.uint8)
    image = Image.fromarray(grey, mode="L").resize((28 * scale, 28 * scale), Image.NEAREST)
    return encode_png(image)


def vae_decoder(model: VAE) -> Decoder:
    """The VAE's decoder means (Bernoulli probabilities) as a function of latent points."""
    @torch.no_grad()
    def decode(z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(model.decode(z))
    return decode


class LatentSliders(w.VBox):
    """One slider per direction; the image shows decode(origin + Σ slider_i · direction_i)."""

    def __init__(self, decode: Decoder, origin: torch.Tensor, directions: torch.Tensor, names: list[str],
                 limit: float = 3.0, bernoulli: bool = False, latent_map: LatentMap | None = None, seed: int = 0):
        self.decode, self.limit, self.latent_map = decode, limit, latent_map
        self.sampler = torch.Generator().manual_seed(seed)
        self.quiet = False
        self.sliders = [self.new_slider(name) for name in names]
        self.binary = w.ToggleButton(value=False, description="binary sample", disabled=not bernoulli,
                                     tooltip="draw 0/1 pixels from the Bernoulli means instead of showing them",
                                     layout=w.Layout(display=None if bernoulli else "none"))
        self.binary.observe(self.refresh, "value")
        self.image = w.Image(format="png", width=28 * SCALE, height=28 * SCALE)
        self.map_image = w.Image(format="png") if latent_map else None
        self.set_basis(origin, directions, names)
        views = [self.image, self.map_image] if self.map_image else [self.image]
        super().__init__([w.HBox([w.VBox([*self.sliders, self.binary]), *views],
                                 layout=w.Layout(align_items="center"))])

    def new_slider(self, name: str) -> w.FloatSlider:
        """A slider over [-limit, limit] that redraws the image as it moves."""
        slider = w.FloatSlider(value=0.0, min=-self.limit, max=self.limit, step=0.05, description=name,
                               continuous_update=True, readout_format=".2f")
        slider.observe(self.refresh, "value")
        return slider

    def set_basis(self, origin: torch.Tensor, directions: torch.Tensor, names: list[str]) -> None:
        """Point the sliders along new directions from a new origin, all back at 0."""
        if len(names) != len(self.sliders) or directions.shape[0] != len(names):
            raise ValueError(f"expected {len(self.sliders)} directions, got {directions.shape[0]}")
        self.origin, self.directions = origin.detach().cpu().float(), directions.detach().cpu().float()
        self.quiet = True
        for slider, name in zip(self.sliders, names):
            slider.description, slider.value = name, 0.0
        self.quiet = False
        self.refresh()

    def coefficients(self) -> torch.Tensor:
        """The sliders' values as a tensor."""
        return torch.tensor([s.value for s in self.sliders], dtype=torch.float32)

    def point(self) -> torch.Tensor:
        """The latent point the sliders select."""
        return self.origin + self.coefficients() @ self.directions

    def set_point(self, z: torch.Tensor) -> None:
        """Move the sliders to the coefficients that best reach z, redrawing once.

        Values are clipped to the sliders' range and rounded to their step, where the browser's sliders
        would put them anyway (an off-step value comes back from the page as a second, late change).
        """
        solution = torch.linalg.lstsq(self.directions.T, (z.detach().cpu().float() - self.origin).unsqueeze(1))
        self.quiet = True
        for slider, value in zip(self.sliders, solution.solution.squeeze(1).tolist()):
            slider.value = round(round(value / slider.step) * slider.step, 10)
        self.quiet = False
        self.refresh()

    def pixels(self) -> torch.Tensor:
        """The 784 pixel values shown now: decoder means, or a binary draw from them."""
        means = self.decode(self.point().unsqueeze(0))[0].cpu()
        return torch.bernoulli(means, generator=self.sampler) if self.binary.value else means

    def refresh(self, change: dict | None = None) -> None:
        """Redraw the image (and the map's marker) for the current slider values."""
        if self.quiet:
            return
        self.image.value = to_png(self.pixels())
        if self.map_image is not None:
            self.map_image.value = self.latent_map.png(self.point())


class Interpolation(w.VBox):
    """An α slider between two latent points: the image shows decode((1 - α) · start + α · end)."""

    def __init__(self, decode: Decoder, start: torch.Tensor, end: torch.Tensor, controls: list[w.Widget]):
        self.decode = decode
        self.alpha = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.02, description="α",
                                   continuous_update=True, readout_format=".2f")
        self.alpha.observe(self.refresh, "value")
        self.start_image, self.mix_image, self.end_image = (
            w.Image(format="png", width=28 * SCALE // 2 * k, height=28 * SCALE // 2 * k) for k in (1, 2, 1))
        self.set_endpoints(start, end)
        labelled = [w.VBox([w.Label(text), image], layout=w.Layout(align_items="center")) for text, image in
                    (("start (α = 0)", self.start_image), ("mix", self.mix_image), ("end (α = 1)", self.end_image))]
        super().__init__([w.HBox(controls + [self.alpha]), w.HBox(labelled, layout=w.Layout(align_items="center"))])

    def set_endpoints(self, start: torch.Tensor, end: torch.Tensor) -> None:
        """Interpolate between new endpoints and redraw all three images."""
        self.start, self.end = start.detach().cpu().float(), end.detach().cpu().float()
        ends = self.decode(torch.stack([self.start, self.end])).cpu()
        self.start_image.value, self.end_image.value = to_png(ends[0], SCALE // 2), to_png(ends[1], SCALE // 2)
        self.refresh()

    def point(self) -> torch.Tensor:
        """The latent point for the current α."""
        return (1.0 - self.alpha.value) * self.start + self.alpha.value * self.end

    def refresh(self, change: dict | None = None) -> None:
        """Redraw the mixed image."""
        self.mix_image.value = to_png(self.decode(self.point().unsqueeze(0))[0])


class VAEExplorer(w.VBox):
    """A trained VAE by hand: latent sliders (coordinates or principal directions), prior draw, reset, α mix."""

    def __init__(self, model: VAE, validation: Split, limit: float = 3.0, seed: int = 0):
        model = model.cpu().eval()
        self.decode = vae_decoder(model)
        self.validation = validation
        self.means = latent_means(model, validation.images.cpu())
        self.encode = lambda index: self.means[index]
        dim = model.latent_dim
        self.prior = torch.Generator().manual_seed(seed)
        latent_map = LatentMap(self.means, validation.labels.cpu(), limit) if dim == 2 else None
        self.sliders = LatentSliders(self.decode, torch.zeros(dim), torch.eye(dim), self.names("coordinates", dim),
                                     limit, bernoulli=True, latent_map=latent_map, seed=seed)
        self.mode = w.ToggleButtons(options=["coordinates", "principal directions"], value="coordinates",
                                    tooltips=["one slider per latent coordinate z_i",
                                              "one slider per principal axis of the posterior means (in std units)"])
        self.mode.observe(self.switch_mode, "value")
        self.prior_button = w.Button(description="sample from prior", icon="random", layout=w.Layout(width="auto"))
        self.prior_button.on_click(lambda _: self.sliders.set_point(torch.randn(dim, generator=self.prior)))
        self.reset_button = w.Button(description="reset", icon="undo", layout=w.Layout(width="auto"))
        self.reset_button.on_click(lambda _: self.switch_mode())
        first, second = self.first_of_digits(7, 1)
        self.start_index, self.end_index = (
            w.BoundedIntText(value=i, min=0, max=len(validation) - 1, description=text, layout=w.Layout(width="200px"))
            for i, text in ((first, "start image"), (second, "end image")))
        for picker in (self.start_index, self.end_index):
            picker.observe(self.pick_endpoints, "value")
        self.interpolation = Interpolation(self.decode, self.encode(first), self.encode(second),
                                           [self.start_index, self.end_index])
        buttons = w.HBox([self.mode, self.prior_button, self.reset_button])
        title = w.HTML(f"<b>VAE, latent size {dim}</b>: move the sliders to walk the latent space")
        mix_title = w.HTML("<b>Interpolation</b> between the posterior means of two validation images")
        super().__init__([title, buttons, self.sliders, mix_title, self.interpolation])

    def __repr__(self) -> str:
        return (f"VAE explorer, latent size {len(self.sliders.sliders)} (interactive: needs a running kernel; "
                "open notebooks/explore.ipynb in JupyterLab)")

    @staticmethod
    def names(mode: str, dim: int) -> list[str]:
        """Slider labels: z1…zd for coordinates, pc1…pcd for principal directions."""
        return [f"{'z' if mode == 'coordinates' else 'pc'}{i + 1}" for i in range(dim)]

    def first_of_digits(self, *digits: int) -> list[int]:
        """The index of the first validation image of each digit (for default endpoints)."""
        labels = self.validation.labels.cpu()
        return [int((labels == d).nonzero()[0]) if (labels == d).any() else i for i, d in enumerate(digits)]

    def switch_mode(self, change: dict | None = None) -> None:
        """Rebuild the sliders' basis for the chosen mode, back at its origin (also the reset button)."""
        dim = len(self.sliders.sliders)
        if self.mode.value == "coordinates":
            origin, directions = torch.zeros(dim), torch.eye(dim)
        else:
            origin, directions = principal_directions(self.means)
        self.sliders.set_basis(origin, directions, self.names(self.mode.value, dim))

    def pick_endpoints(self, change: dict | None = None) -> None:
        """Encode the two chosen validation images and interpolate between them."""
        self.interpolation.set_endpoints(self.encode(self.start_index.value), self.encode(self.end_index.value))


class GANExplorer(w.VBox):
    """A trained generator by hand: sliders over its leading noise directions, new noise, α mix, digit choice."""

    def __init__(self, generator: torch.nn.Module, directions: int = 8, limit: float = 3.0, seed: int = 0):
        from helpers.models.gan import to_unit

        self.generator = generator.cpu().eval()
        self.noise = torch.Generator().manual_seed(seed)
        conditional = getattr(generator, "num_classes", 0) > 0
        self.digit = w.Dropdown(options=list(range(generator.num_classes)) if conditional else [None],
                                value=3 if conditional else None, description="digit",
                                layout=w.Layout(display=None if conditional else "none", width="160px"))

        @torch.no_grad()
        def decode(z: torch.Tensor) -> torch.Tensor:
            labels = torch.full((len(z),), self.digit.value, dtype=torch.long) if conditional else None
            return to_unit(self.generator(z, labels))

        def decode_differentiable(z: torch.Tensor) -> torch.Tensor:
            labels = torch.full((len(z),), self.digit.value, dtype=torch.long) if conditional else None
            return to_unit(self.generator(z, labels))

        self.decode, self.decode_differentiable = decode, decode_differentiable
        self.count = min(directions, generator.noise_dim)
        names = [f"dir {i + 1}" for i in range(self.count)]
        origin = self.draw()
        self.sliders = LatentSliders(decode, origin, leading_directions(decode_differentiable, origin, self.count),
                                     names, limit)
        self.noise_button = w.Button(description="new noise", icon="random",
                                     tooltip="draw a new noise vector and its leading directions")
        self.noise_button.on_click(self.new_noise)
        self.pair_button = w.Button(description="new pair", icon="random", tooltip="two new noise vectors to mix")
        self.pair_button.on_click(lambda _: self.interpolation.set_endpoints(self.draw(), self.draw()))
        self.interpolation = Interpolation(decode, self.draw(), self.draw(), [self.pair_button])
        self.digit.observe(self.change_digit, "value")
        kind = "conditional GAN" if conditional else "GAN"
        title = w.HTML(f"<b>{kind}</b>: the sliders move the noise along the directions that change the image most")
        mix_title = w.HTML("<b>Interpolation</b> between two noise vectors")
        super().__init__([title, w.HBox([self.digit, self.noise_button]), self.sliders, mix_title,
                          self.interpolation])

    def __repr__(self) -> str:
        return "GAN explorer (interactive: needs a running kernel; open notebooks/explore.ipynb in JupyterLab)"

    def draw(self) -> torch.Tensor:
        """One noise vector from N(0, I)."""
        return torch.randn(self.generator.noise_dim, generator=self.noise)

    def new_noise(self, change: object = None) -> None:
        """Start from a new noise vector, with its own leading directions."""
        origin = self.draw()
        self.sliders.set_basis(origin, leading_directions(self.decode_differentiable, origin, self.count),
                               [s.description for s in self.sliders.sliders])

    def change_digit(self, change: dict | None = None) -> None:
        """Redraw both views for the newly chosen digit."""
        self.new_noise()
        self.interpolation.set_endpoints(self.interpolation.start, self.interpolation.end)


def vae_to_explore(run_dir: str, latent_dim: int, splits: Splits, config: ExploreConfig) -> VAE:
    """The VAE of a run folder; with none given, a small one trained now into output_dir."""
    from helpers.explorers import small

    return load_vae(run_dir) if run_dir else small.train_small_vae(latent_dim, splits, config)


def generator_to_explore(run_dir: str, auxiliary: bool, splits: Splits, config: ExploreConfig) -> torch.nn.Module:
    """The generator of a GAN run folder; with none given, a small one trained now into output_dir."""
    from helpers.explorers import small
    from helpers.models import gan

    return gan.load_generator(run_dir) if run_dir else small.train_small_gan(auxiliary, splits, config)


def update_latency_ms(sliders: LatentSliders, steps: int = 50) -> float:
    """Median milliseconds per update while the first slider is swept across its range (what a drag costs).

    The values lie on the slider's step grid (as a drag gives them), and the slider returns to where it was.
    """
    slider = sliders.sliders[0]
    start_value = slider.value
    grid = np.arange(round((slider.max - slider.min) / slider.step) + 1) * slider.step + slider.min
    times = []
    for value in grid[np.linspace(0, len(grid) - 1, steps).round().astype(int)]:
        start = time.perf_counter()
        slider.value = round(float(value), 6)
        times.append(time.perf_counter() - start)
    slider.value = start_value
    return 1000.0 * float(np.median(times))
