"""What the report's kernel-free explorers carry, computed where torch lives (the exploration notebook).

Each payload is plain JSON: a network's linear layers as base64 little-endian float16 (weights row-major,
out x in), the activation, and the points and directions its explorer starts from. ``write_explorers``
puts all four in the run folder's explorers.json; the report layer only reads that file.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from helpers.common.files import EXPLORERS, write_json
from helpers.common.folder import RunFolder
from helpers.data import Split
from helpers.models.vae import VAE, latent_means

LIMIT = 3.0  # sliders cover [-LIMIT, LIMIT] (latent units, standard deviations, or noise units)
MAP_DPI = 64  # the latent map is 7.5 x 6.5 inches at this resolution (480 x 416 pixels)
DIRECTIONS = 8  # sliders of the latent-20 VAE and the GANs
ENDPOINTS_PER_DIGIT = 3  # validation images offered as interpolation endpoints of the latent-20 VAE
ACTIVATION_NAMES = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "Tanh": "tanh", "ELU": "elu", "Softplus": "softplus"}


def encode_png(image: Image.Image) -> bytes:
    """A PIL image as PNG bytes, compressed lightly for speed."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class LatentMap:
    """The validation set's 2-D latent scatter, drawn once by matplotlib, and how z maps to its pixels."""

    def __init__(self, means: torch.Tensor, labels: torch.Tensor, limit: float = 3.0):
        from helpers import plots

        fig = plots.latent_scatter(means, labels, "Validation images in the latent space", limit=limit)
        fig.set_dpi(MAP_DPI)
        fig.canvas.draw()
        self.background = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        height = self.background.shape[0]
        (x0, y0), (x1, y1) = fig.axes[0].transData.transform([[0.0, 0.0], [1.0, 1.0]])
        self.origin = np.array([x0, height - y0])  # pixel of z = (0, 0), rows counted from the top
        self.unit = np.array([x1 - x0, -(y1 - y0)])  # pixels per unit of z1 and z2
        plots.close(fig)

    def pixel(self, point: torch.Tensor | np.ndarray) -> tuple[float, float]:
        """Where a latent point falls on the map image, in pixels from the top-left corner."""
        x, y = self.origin + self.unit * np.asarray(point, dtype=np.float64)[:2]
        return float(x), float(y)

    def png(self, point: torch.Tensor | np.ndarray) -> bytes:
        """The map with a ring marker at the point, as PNG bytes (the notebook's explorer)."""
        image = Image.fromarray(self.background)
        x, y = self.pixel(point)
        draw = ImageDraw.Draw(image)
        draw.ellipse((x - 9, y - 9, x + 9, y + 9), outline=(0, 0, 0), width=3)
        draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=(0, 0, 0))
        return encode_png(image)

    def payload(self) -> dict[str, Any]:
        """The map as a PNG data URI with its size and pixel mapping."""
        png = encode_png(Image.fromarray(self.background))
        height, width = self.background.shape[:2]
        return {"map": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "mapWidth": width,
                "mapHeight": height, "origin": self.origin.tolist(), "unit": self.unit.tolist()}


def half_base64(tensor: torch.Tensor) -> str:
    """A tensor's values as base64 of little-endian float16."""
    return base64.b64encode(tensor.detach().cpu().numpy().astype("<f2").tobytes()).decode("ascii")


def mlp_payload(modules: list[torch.nn.Module]) -> dict[str, Any]:
    """Linear layers (float16 base64) and the hidden activation of an MLP given as its modules in order."""
    linears = [m for m in modules if isinstance(m, torch.nn.Linear)]
    hidden = [type(m).__name__ for m in modules if not isinstance(m, torch.nn.Linear)]
    slope = next((m.negative_slope for m in modules if isinstance(m, torch.nn.LeakyReLU)), 0.01)
    return {"activation": ACTIVATION_NAMES.get(hidden[0], "relu") if hidden else "relu", "slope": slope,
            "layers": [{"in": m.in_features, "out": m.out_features, "w": half_base64(m.weight),
                        "b": half_base64(m.bias)} for m in linears]}


def rounded(array: torch.Tensor | np.ndarray, digits: int = 4) -> list:
    """Numbers as nested lists with few decimals (the payload stays small)."""
    return np.round(np.asarray(array.detach().cpu() if isinstance(array, torch.Tensor) else array,
                               dtype=np.float64), digits).tolist()


def principal_directions(means: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and principal axes of the posterior means, each axis scaled to one standard deviation."""
    centre = means.mean(dim=0)
    _, singular, axes = torch.linalg.svd(means - centre, full_matrices=False)
    return centre, axes * (singular / (len(means) - 1) ** 0.5).unsqueeze(1)


def leading_directions(decode: Any, z: torch.Tensor, count: int) -> torch.Tensor:
    """The unit noise directions that change the generated image most at z (top right-singular vectors)."""
    with torch.enable_grad():
        points = z.detach().repeat(28 * 28, 1).requires_grad_(True)  # row i gives the gradient of pixel i
        decode(points).diagonal().sum().backward()
    return torch.linalg.svd(points.grad, full_matrices=False)[2][:count]


def digit_anchors(means: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Each digit's typical latent point: the coordinate-wise median of its validation images' posterior means."""
    return np.array([means[labels == d].median(dim=0).values.tolist() if (labels == d).any()
                     else [0.0] * means.shape[1] for d in range(10)])


def vae2_payload(model: VAE, validation: Split, square: float) -> dict[str, Any]:
    """The latent-2 VAE: decoder, latent map (dashed square [-square, square]^2), digit anchors."""
    means = latent_means(model.cpu().eval(), validation.images.cpu())
    labels = validation.labels.cpu()
    return {"kind": "vae2", "decoder": mlp_payload(list(model.decoder)), "limit": LIMIT,
            "anchors": rounded(digit_anchors(means, labels))} | LatentMap(means, labels, square).payload()


def vae20_payload(model: VAE, validation: Split) -> dict[str, Any]:
    """A VAE of any latent size: decoder, leading principal directions of the posterior means, endpoints."""
    means = latent_means(model.cpu().eval(), validation.images.cpu())
    labels = validation.labels.cpu()
    centre, axes = principal_directions(means)
    chosen = [int(i) for d in range(10) for i in (labels == d).nonzero().flatten()[:ENDPOINTS_PER_DIGIT]]
    return {"kind": "vae20", "decoder": mlp_payload(list(model.decoder)), "limit": LIMIT,
            "latentDim": model.latent_dim, "centre": rounded(centre), "directions": rounded(axes[:DIRECTIONS]),
            "endpoints": [{"index": i, "digit": int(labels[i]), "z": rounded(means[i])} for i in chosen]}


def gan_payload(generator: torch.nn.Module, seed: int = 0) -> dict[str, Any]:
    """A generator: its layers, a start noise vector, its leading directions (per digit when conditional), a pair."""
    from helpers.models.gan import to_unit

    generator = generator.cpu().eval()
    noise = torch.Generator().manual_seed(seed)
    draw = lambda: torch.randn(generator.noise_dim, generator=noise)
    origin, start, end = draw(), draw(), draw()
    classes = generator.num_classes
    count = min(DIRECTIONS, generator.noise_dim)

    def directions(digit: int | None) -> list:
        labels = lambda n: torch.full((n,), digit, dtype=torch.long) if digit is not None else None
        return rounded(leading_directions(lambda z: to_unit(generator(z, labels(len(z)))), origin, count))

    payload = {"kind": "gan", "generator": mlp_payload([*generator.hidden, *generator.out]), "limit": LIMIT,
               "noiseDim": generator.noise_dim, "classes": classes, "origin": rounded(origin),
               "start": rounded(start), "end": rounded(end),
               "directions": [directions(d) for d in range(classes)] if classes else [directions(None)]}
    if classes:
        payload["embedding"] = rounded(generator.embed.weight)
    return payload


def write_explorers(folder: Path, models: dict[str, torch.nn.Module], validation: Split, square: float,
                    seed: int = 0) -> Path:
    """Write explorers.json: one payload per model (vae_z2, vae_z20, gan, aux_gan), in that order."""
    payloads = {}
    for name, model in models.items():
        if isinstance(model, VAE):
            payloads[name] = (vae2_payload(model, validation, square) if model.latent_dim == 2
                              else vae20_payload(model, validation))
        else:
            payloads[name] = gan_payload(model, seed)
    write_json(folder / EXPLORERS, payloads)
    return folder / EXPLORERS


def grid_limit(vae_run_dir: str) -> float:
    """The half-width of the square a latent-2 run's decoded grid covers (its map marks it); 2 when trained here."""

    return float(RunFolder(Path(vae_run_dir)).metrics()["parameters"].get("grid_limit", 2.0)) if vae_run_dir else 2.0
