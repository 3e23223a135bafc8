"""The written-out training steps (helpers/training/explicit.py) take autograd's steps, one by one, and train only
the model classes registered for them (train.WRITTEN_OUT).

tests/test_train_equivalence.py compares whole epochs for the writeup's networks; here every activation the VAE
offers and every GAN variant is compared step by step in float64 (where the two differ only by the order of
their sums, ~1e-16), and the bf16 path keeps what must stay float32 in float32.
"""

from __future__ import annotations

import copy

import pytest
import torch

from helpers.models import gan, vae
from helpers.models.precision import FP32, Numerics
from helpers.training import explicit, train

STEPS = 5
SAME = {"rtol": 1e-9, "atol": 1e-12}  # float64: measured differences are below 3e-14 (bench.portability levels)


@pytest.fixture
def float64():
    """float64 tensors by default (noise and labels drawn by the models follow it); restored afterwards."""
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(dtype)


def binary_batch(n: int = 20) -> torch.Tensor:
    """A fixed batch of binary images."""
    return (torch.rand(n, 784, generator=torch.Generator().manual_seed(2)) > 0.5).to(torch.get_default_dtype())


def assert_same_weights(left: torch.nn.Module, right: torch.nn.Module) -> None:
    """Every parameter of left equals right's within SAME."""
    for (name, a), b in zip(left.named_parameters(), right.parameters(), strict=True):
        assert torch.allclose(a, b, **SAME), name


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "elu", "softplus"])
def test_vae_step_is_autograds_step(activation, float64):
    torch.manual_seed(0)
    reference = vae.VAE(3, 40, activation)
    model = copy.deepcopy(reference)
    optimizer = train.make_optimizer(torch.optim.Adagrad, reference.parameters(), torch.device("cpu"), lr=0.01)
    step, _ = train.vae_trainer(model, 0.01, FP32)
    assert isinstance(step, explicit.VAEStep)
    draws, x = (torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)), binary_batch()
    for _ in range(STEPS):
        expected = train.vae_step(reference, optimizer, x, draws[0], FP32)
        assert torch.allclose(step(x, draws[1]), expected, **SAME)
        assert_same_weights(model, reference)


@pytest.mark.parametrize(("auxiliary", "conditional"), [(False, False), (True, False), (True, True)],
                         ids=["gan", "digit_head", "ac_gan"])
def test_gan_steps_are_autograds_steps(auxiliary, conditional, float64):
    torch.manual_seed(0)
    gen, disc = gan.models_from_parameters({"noise_dim": 8, "hidden_dim": 32, "auxiliary": auxiliary,
                                            "conditional": conditional})
    ref_gen, ref_disc = copy.deepcopy(gen), copy.deepcopy(disc)
    adam = lambda m: train.make_optimizer(torch.optim.Adam, m.parameters(), torch.device("cpu"), lr=5e-3,
                                          betas=(0.5, 0.999))
    reference = train.AutogradGANSteps(ref_gen, ref_disc, adam(ref_gen), adam(ref_disc))
    steps = train.gan_trainer(gen, disc, 5e-3, 5e-3, (0.5, 0.999), FP32)
    assert isinstance(steps, explicit.GANSteps)
    draws = (torch.Generator().manual_seed(1), torch.Generator().manual_seed(1))
    real = binary_batch() * 2 - 1
    digits = torch.randint(0, 10, (len(real),), generator=torch.Generator().manual_seed(3))
    for _ in range(STEPS):
        expected = reference.discriminator(real, digits, draws[0])
        assert torch.allclose(steps.discriminator(real, digits, draws[1]), expected.double(), rtol=1e-6), \
            "the accuracy is a float32 mean in the reference"
        assert torch.allclose(steps.generator(len(real), draws[1]), reference.generator(len(real), draws[0]), **SAME)
        assert_same_weights(gen, ref_gen)
        assert_same_weights(disc, ref_disc)


@pytest.mark.parametrize("kind", ["adagrad", "adam"])
def test_the_direct_fused_step_is_optimizer_step_bit_for_bit_also_after_a_resume(kind):
    options = {"adagrad": (torch.optim.Adagrad, {"lr": 0.01}),
               "adam": (torch.optim.Adam, {"lr": 5e-4, "betas": (0.5, 0.999)})}[kind]
    draws = torch.Generator().manual_seed(0)
    start = torch.randn(1000, generator=draws)
    direct, reference = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    optimizers = [train.make_optimizer(options[0], [p], torch.device("cpu"), **options[1])
                  for p in (direct, reference)]
    assert explicit.directly_fused(optimizers[0])
    for number in range(6):
        if number == 3:  # a resumed run: the optimizer's state is replaced by a checkpoint's
            optimizers[0].load_state_dict(copy.deepcopy(optimizers[1].state_dict()))
        grad = torch.randn(1000, generator=draws)
        direct.grad, reference.grad = grad.clone(), grad.clone()
        explicit.fused_step(optimizers[0])
        optimizers[1].step()
        assert torch.equal(direct, reference)
    assert str(optimizers[0].state_dict()) == str(optimizers[1].state_dict())


def test_options_the_direct_fused_step_does_not_spell_out_go_through_optimizer_step():
    parameters = [torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))]
    assert not explicit.directly_fused(torch.optim.Adam(parameters, fused=True))  # two parameters
    assert not explicit.directly_fused(torch.optim.Adam(parameters[:1], fused=True, amsgrad=True))
    assert not explicit.directly_fused(torch.optim.AdamW(parameters[:1], fused=True))
    assert not explicit.directly_fused(torch.optim.Adagrad(parameters[:1]))  # not fused


def test_bf16_tanh_through_float32_gives_bf16s_own_values():
    x = (torch.randn(20_000, generator=torch.Generator().manual_seed(0)) * 3).to(torch.bfloat16)
    assert torch.equal(explicit.tanh_(x.clone()), torch.tanh(x))


class HalvedLogitsVAE(vae.VAE):
    """The VAE's very Sequentials computing something else (as a conditional VAE would): its logits halved."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Half the VAE's logits."""
        return super().decode(z) * 0.5


def test_a_subclass_of_the_vae_trains_its_own_forward_by_autograd_unless_registered(monkeypatch):
    torch.manual_seed(0)
    model, x = HalvedLogitsVAE(2, 16), binary_batch()
    registered = copy.deepcopy(model)
    with torch.no_grad():
        logits, mean, log_var = model(x, torch.Generator().manual_seed(0))
        expected = torch.stack(vae.neg_elbo(logits, x, mean, log_var))
    step, _ = train.vae_trainer(model, 0.01, FP32)
    assert not isinstance(step, explicit.VAEStep)
    assert torch.allclose(step(x, torch.Generator().manual_seed(0)), expected)  # the halved logits' loss
    monkeypatch.setitem(train.WRITTEN_OUT, (HalvedLogitsVAE,), explicit.VAEStep)
    step, _ = train.vae_trainer(registered, 0.01, FP32)
    assert isinstance(step, explicit.VAEStep)  # registered: the VAE's written-out step, whatever decode says
    assert not torch.allclose(step(x, torch.Generator().manual_seed(0)), expected)


def test_gan_networks_of_a_subclass_train_by_autograd():
    class SubclassedGenerator(gan.Generator):
        """The plain generator under another class (not registered)."""

    steps = train.gan_trainer(SubclassedGenerator(4, 8), gan.Discriminator(8), 1e-3, 1e-3, (0.5, 0.999), FP32)
    assert isinstance(steps, train.AutogradGANSteps)


def test_a_vae_whose_layers_were_changed_in_place_is_refused_not_trained_by_the_written_out_step():
    model = vae.VAE(2, 16)
    model.decoder.insert(1, torch.nn.Dropout(0.1))
    with pytest.raises(explicit.UnsupportedModelError, match="no written-out backward for Dropout"):
        train.vae_trainer(model, 0.01, FP32)


def test_bf16_steps_keep_weights_optimizer_state_and_losses_in_float32():
    torch.manual_seed(0)
    model = vae.VAE(2, 32)
    reference = copy.deepcopy(model)
    step, optimizer = train.vae_trainer(model, 0.01, Numerics.of("bf16", "cpu"))
    fp32_step, _ = train.vae_trainer(reference, 0.01, FP32)
    x = binary_batch()
    for _ in range(3):
        losses = step(x, torch.Generator().manual_seed(0))
        expected = fp32_step(x, torch.Generator().manual_seed(0))
    assert losses.dtype == torch.float32 and step.flat.weights.dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(v.dtype == torch.float32 for state in optimizer.state.values() for v in state.values() if v.ndim)
    # bf16 keeps 8 bits of mantissa: products of 784 terms round to ~0.4% of their size, far from a changed step
    assert losses[:2].tolist() == pytest.approx(expected[:2].tolist(), rel=0.02)  # loss, reconstruction
    assert losses[2].item() == pytest.approx(expected[2].item(), abs=0.02)  # the KL, near 0 at the start
    assert not torch.allclose(losses, expected, rtol=1e-6)  # and it did run in bf16


def test_the_model_reads_the_trained_weights():
    model = vae.VAE(2, 16)
    step, _ = train.vae_trainer(model, 0.1, FP32)
    step(binary_batch(), torch.Generator().manual_seed(0))
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    assert torch.equal(flat, step.flat.parameter.detach())
    copy_of_model = vae.VAE(2, 16)
    copy_of_model.load_state_dict(model.state_dict())  # a checkpoint of the model holds the trained weights
    for a, b in zip(copy_of_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
