"""The kernel-free explorers' payloads (helpers.explorers.payloads) and their HTML (report templates)."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import torch

from conftest import run_models
from helpers.common.files import EXPLORERS
from helpers.data import Split
from helpers.explorers import payloads
from helpers.models import gan
from helpers.models.vae import latent_means, load_vae
from helpers.report.document import Document


class Tags(HTMLParser):
    """Every tag's attributes in a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def validation() -> Split:
    """A small stand-in validation set."""
    return Split(torch.rand(300, 784, generator=torch.Generator().manual_seed(2)), torch.arange(300) % 10)


@pytest.fixture(scope="module")
def explorers(untrained_runs, validation, tmp_path_factory) -> dict:
    """explorers.json as the exploration notebook writes it, for the four untrained runs."""
    models = run_models(untrained_runs)
    folder = tmp_path_factory.mktemp("explore")
    path = payloads.write_explorers(folder, models, validation, 2.0, seed=0)
    assert path == folder / EXPLORERS
    return json.loads(path.read_text())


def halves(layer: dict) -> np.ndarray:
    """A payload layer's weights as a float16 matrix."""
    return np.frombuffer(base64.b64decode(layer["w"]), dtype="<f2").reshape(layer["out"], layer["in"])


def test_vae_payloads_carry_the_decoder_weights(explorers, untrained_runs):
    for name in ("vae_z2", "vae_z20"):
        linears = [m for m in load_vae(untrained_runs[name]).decoder if isinstance(m, torch.nn.Linear)]
        layers = explorers[name]["decoder"]["layers"]
        assert explorers[name]["decoder"]["activation"] == "relu" and len(layers) == len(linears) == 3
        for layer, linear in zip(layers, linears):
            assert np.array_equal(halves(layer), linear.weight.detach().numpy().astype(np.float16))


def test_latent2_map_coordinates_match_the_latent_map(explorers, untrained_runs, validation):
    data = explorers["vae_z2"]
    means = load_vae(untrained_runs["vae_z2"]).encode(validation.images)[0].detach()
    latent_map = payloads.LatentMap(means, validation.labels, 2.0)  # the dashed square: the run's grid_limit
    assert np.allclose(data["origin"], latent_map.origin) and np.allclose(data["unit"], latent_map.unit)
    assert len(data["anchors"]) == 10 and data["map"].startswith("data:image/png;base64,")


def test_latent20_directions_are_the_leading_principal_axes_in_standard_deviations(explorers, untrained_runs,
                                                                                   validation):
    data = explorers["vae_z20"]
    means = latent_means(load_vae(untrained_runs["vae_z20"]), validation.images)
    directions = torch.tensor(data["directions"])
    assert directions.shape == (payloads.DIRECTIONS, 20)
    # the payload keeps 4 decimals (rounding <= 5e-5 per number); 1e-3 also covers float32 sums over 10,000 means
    assert torch.allclose(torch.tensor(data["centre"]), means.mean(0), atol=1e-3)
    for axis in directions[:3]:
        spread = ((means - means.mean(0)) @ (axis / axis.norm())).std()
        assert abs(spread - axis.norm()) < 1e-3  # one slider unit is one standard deviation
    assert {e["digit"] for e in data["endpoints"]} == set(range(10))
    first = data["endpoints"][0]
    assert np.allclose(first["z"], means[first["index"]], atol=1e-3)


def test_gan_payloads_give_leading_directions_and_the_conditional_ones_per_digit(explorers, untrained_runs):
    plain, conditional = explorers["gan"], explorers["aux_gan"]
    assert plain["classes"] == 0 and len(plain["directions"]) == 1 and "embedding" not in plain
    assert conditional["classes"] == 10 and len(conditional["directions"]) == 10
    generator = gan.load_generator(untrained_runs["aux_gan"])
    # 4 decimals in the payload: within 5e-5 of the weights
    assert np.allclose(conditional["embedding"], generator.embed.weight.detach().numpy(), atol=1e-4)
    origin = torch.tensor(conditional["origin"])
    jacobian = torch.autograd.functional.jacobian(
        lambda z: gan.to_unit(generator(z[None], torch.tensor([3])))[0], origin)
    top = torch.linalg.svd(jacobian)[2][:4]
    ours = torch.tensor(conditional["directions"][3])[:4]
    # directions rounded to 4 decimals in 64 dimensions: their cosines to the exact singular vectors move by < 1e-3
    assert torch.allclose((top @ ours.T).abs(), torch.eye(4), atol=1e-2)
    assert conditional["generator"]["slope"] == pytest.approx(gan.LEAKY_SLOPE)


@pytest.mark.parametrize("name", ["vae_z2", "vae_z20", "gan", "aux_gan"])
def test_explorer_html_needs_no_network_and_has_unique_ids(explorers, name):
    fragment = Document()
    fragment.explorer(name, explorers[name], "title")
    html = fragment.blocks[0].html
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I)  # no URL of any host
    tags = Tags()
    tags.feed(html)
    assert not [t for t, a in tags.attributes if t in ("link", "iframe") or (t == "script" and "src" in a)]
    assert all(a["src"].startswith("data:") for t, a in tags.attributes if "src" in a)
    ids = [a["id"] for _, a in tags.attributes if "id" in a]
    assert len(ids) == len(set(ids)) > 8 and all(i.startswith(ids[0]) for i in ids)


def test_two_models_get_different_id_prefixes(explorers):
    doc = Document()
    doc.explorer("gan", explorers["gan"]), doc.explorer("aux_gan", explorers["aux_gan"])
    prefixes = [re.search(r'id="([^"]+)"', block).group(1) for block in [b.html for b in doc.blocks]]
    assert prefixes[0] != prefixes[1]


def test_payloads_keep_the_report_small(explorers):
    assert len(json.dumps(explorers).encode()) < 8_000_000  # the whole report must stay under 15 MB
