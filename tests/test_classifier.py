"""The MNIST classifier that scores generated samples: it learns, it reloads from a run folder, its notebook runs."""

from __future__ import annotations

import json

import papermill as pm
import pytest
import torch

from conftest import NOTEBOOKS, assert_run_wrote
from helpers.config import ClassifierConfig, ParameterError
from helpers.evaluation import scores
from helpers.models import classifier
from helpers.outputs import RunOutputs
from helpers.training import classifier as classifier_training
from helpers.training import train


@pytest.fixture(scope="module")
def trained(splits):
    """A classifier after one epoch on 5,000 training images."""
    torch.manual_seed(0)
    model = classifier.Classifier()
    defaults = ClassifierConfig()
    optimizer = torch.optim.Adam(model.parameters(), lr=defaults.learning_rate)
    row = classifier_training.classifier_epoch(model, optimizer, splits.train.images[:5000], splits.train.labels[:5000],
                                      defaults.batch_size, torch.Generator().manual_seed(0))
    return model, row


def test_one_epoch_on_5000_images_classifies_test_digits(trained, splits):
    model, row = trained
    assert row["train_loss"] > 0 and 0 < row["train_accuracy"] <= 1
    assert scores.accuracy(model, splits.test.images[:1000], splits.test.labels[:1000]) > 0.90


def test_predict_gives_features_and_probabilities_without_changing_the_mode(trained, splits):
    model, _ = trained
    model.train()
    features, probabilities = scores.predict(model, splits.test.images[:250], batch_size=100)
    assert model.training
    assert features.shape == (250, classifier.Classifier().feature_dim) and probabilities.shape == (250, 10)
    # ten float32 probabilities, each rounded to 1.2e-7 relative: their sum is within 1.2e-6 of 1; 1e-5 leaves room
    assert torch.allclose(probabilities.sum(1), torch.ones(250), atol=1e-5) and (features >= 0).all()


def test_real_digits_score_high_and_noise_scores_low(trained, splits):
    model, _ = trained
    reference = scores.reference_statistics(model, splits.test.images[:1000])
    real = scores.score(model, splits.test.images[:1000], reference, asked=splits.test.labels[:1000])
    noise = scores.score(model, torch.rand(1000, 784, generator=torch.Generator().manual_seed(0)), reference)
    # the same images give the same statistics: the distance is 0 up to the float64 matrix square root's rounding
    assert real["frechet_distance"] == pytest.approx(0, abs=1e-6) and real["conditional_accuracy"] > 0.9
    assert real["inception_score"] > 5 > noise["inception_score"] and real["digits_covered"] == 10
    assert noise["frechet_distance"] > 10 and noise["conditional_accuracy"] is None


def test_the_training_monitors_scorer_scores_with_conditional_accuracy_only_when_digits_were_asked(trained, splits):
    model, _ = trained
    scorer = scores.make_scorer(model, scores.reference_statistics(model, splits.test.images[:1000]))
    images, labels = splits.test.images[:500], splits.test.labels[:500]
    plain, asked = scorer(images, None), scorer(images, labels)
    assert plain["conditional_accuracy"] is None and asked["conditional_accuracy"] > 0.9
    assert plain["digits_covered"] == 10 and plain["frechet_distance"] < 5 and plain["digit_entropy"] > 2


def test_confusion_matrix_rows_are_true_digits():
    labels, predicted = torch.tensor([0, 0, 1, 2, 2, 2]), torch.tensor([0, 1, 1, 2, 2, 0])
    confusion = scores.confusion_matrix(predicted, labels)
    assert confusion.shape == (10, 10) and confusion.sum() == 6
    assert confusion[0, 0] == 1 and confusion[0, 1] == 1 and confusion[2, 2] == 2 and confusion[2, 0] == 1


def test_a_saved_run_reloads_the_same_classifier(trained, splits, tmp_path):
    model, _ = trained
    config = ClassifierConfig(output_dir=str(tmp_path), epochs=1)
    out = RunOutputs.of(config)
    out.save_weights({"model": model})
    out.write_metrics(config, [], torch.device("cpu"))
    loaded = classifier.load_classifier(tmp_path)
    images = splits.test.images[:50]
    assert not loaded.training
    assert torch.equal(scores.predict(loaded, images)[1], scores.predict(model, images)[1])


def test_loading_an_unfinished_run_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights.pt"):
        classifier.load_classifier(tmp_path)


def test_config_refuses_a_bad_value_with_one_line():
    with pytest.raises(ParameterError, match="channels must be > 0"):
        ClassifierConfig(channels=0)


def test_training_resumes_from_its_checkpoint(splits, tmp_path):
    small = type(splits)(type(splits.train)(splits.train.images[:300], splits.train.labels[:300]),
                         type(splits.train)(splits.validation.images[:100], splits.validation.labels[:100]),
                         splits.test)
    config = ClassifierConfig(epochs=2, channels=4, hidden_dim=16, output_dir=str(tmp_path))

    def run(epochs: int) -> tuple[list[dict[str, float]], dict[str, torch.Tensor]]:
        torch.manual_seed(0)
        model = classifier.Classifier(config.hidden_dim, config.channels)
        config.epochs = epochs
        history = classifier_training.fit_classifier(model, small, config, tmp_path / train.CHECKPOINT)
        return history, model.state_dict()

    run(1)
    resumed_history, resumed = run(2)
    (tmp_path / train.CHECKPOINT).unlink()
    straight_history, straight = run(2)
    assert [r["train_loss"] for r in resumed_history] == [r["train_loss"] for r in straight_history]
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)


@pytest.mark.slow
def test_notebook_writes_weights_metrics_and_reference_scores(tmp_path):
    pm.execute_notebook(str(NOTEBOOKS / "classifier.ipynb"), str(tmp_path / "classifier.ipynb"),
                        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
                        parameters={"epochs": 1, "train_size": 2000, "channels": 8, "output_dir": str(tmp_path)})
    assert_run_wrote(tmp_path, {"metrics.json", "figures.json", "weights.pt", "checkpoint.pt", "misclassified.png"})
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert 0.8 < metrics["test_accuracy"] <= 1 and len(metrics["confusion"]) == 10
    reference = metrics["reference"]
    assert reference["real_test"]["frechet_distance"] == pytest.approx(0, abs=1e-6)
    assert reference["real_test"]["inception_score"] > reference["independent_pixels"]["inception_score"]
    assert reference["real_validation"]["frechet_distance"] < reference["independent_pixels"]["frechet_distance"]
    assert classifier.load_classifier(tmp_path).channels == 8
