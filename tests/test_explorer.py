"""The kernel-free explorer fragment: self-contained, unique ids, the decoder's weights inside, a sensible size."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import torch

from helpers.data import Split
from helpers.explorer import explorer_html
from helpers.vae import load_vae
from helpers.widgets import LatentMap


class Tags(HTMLParser):
    """Every tag's attributes in a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.append((tag, dict(attrs)))


def payload(fragment: str) -> dict:
    """The JSON data the fragment's script reads."""
    return json.loads(re.search(r"const P = (\{.*?\});\n", fragment, re.S).group(1))


@pytest.fixture(scope="module")
def validation() -> Split:
    """A small stand-in validation set."""
    return Split(torch.rand(300, 784, generator=torch.Generator().manual_seed(2)), torch.arange(300) % 10)


@pytest.fixture(scope="module")
def fragment(untrained_runs, validation) -> str:
    return explorer_html(untrained_runs["vae_z2"], validation)


def test_fragment_needs_no_network_and_no_other_file(fragment):
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", fragment, re.I)  # no URL of any host
    tags = Tags()
    tags.feed(fragment)
    assert not [t for t, a in tags.attributes if t in ("link", "iframe") or (t == "script" and "src" in a)]
    assert all(a["src"].startswith("data:") for t, a in tags.attributes if "src" in a and a["src"])


def test_element_ids_are_unique_and_differ_between_runs(fragment, untrained_runs, validation, tmp_path):
    tags = Tags()
    tags.feed(fragment)
    ids = [a["id"] for _, a in tags.attributes if "id" in a]
    assert len(ids) == len(set(ids)) > 10
    prefix = ids[0]
    assert all(i.startswith(prefix) for i in ids)
    other = tmp_path / "other"
    other.mkdir()
    model = load_vae(untrained_runs["vae_z2"])
    with torch.no_grad():
        model.decoder[0].weight.add_(1.0)
    torch.save({"model": model.state_dict()}, other / "weights.pt")
    (other / "metrics.json").write_text((untrained_runs["vae_z2"] / "metrics.json").read_text())
    assert prefix not in explorer_html(other, validation)


def test_fragment_carries_the_decoder_weights(fragment, untrained_runs):
    data = payload(fragment)
    linears = [m for m in load_vae(untrained_runs["vae_z2"]).decoder if isinstance(m, torch.nn.Linear)]
    assert data["activation"] == "relu" and len(data["layers"]) == len(linears) == 3
    for layer, linear in zip(data["layers"], linears):
        weights = np.frombuffer(base64.b64decode(layer["w"]), dtype="<f2").reshape(layer["out"], layer["in"])
        assert np.array_equal(weights, linear.weight.detach().numpy().astype(np.float16))


def test_map_coordinates_match_the_latent_map(fragment, untrained_runs, validation):
    data = payload(fragment)
    means = load_vae(untrained_runs["vae_z2"]).encode(validation.images)[0].detach()
    latent_map = LatentMap(means, validation.labels, 2.0)  # the dashed square: the run's grid_limit, as in its figures
    assert np.allclose(data["origin"], latent_map.origin) and np.allclose(data["unit"], latent_map.unit)
    assert len(data["anchors"]) == 10


def test_fragment_is_small_enough_for_the_report(fragment):
    assert len(fragment.encode()) < 3_000_000  # the whole report should stay under 15 MB


def test_latent20_run_is_refused(untrained_runs, validation):
    with pytest.raises(ValueError, match="latent-2"):
        explorer_html(untrained_runs["vae_z20"], validation)


def test_validation_set_defaults_to_the_runs_dataset(untrained_runs):
    data = payload(explorer_html(untrained_runs["vae_z2"]))  # reads MNIST's validation split from data/
    assert data["mapWidth"] > 300 and len(data["anchors"]) == 10
