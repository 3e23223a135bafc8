"""Training steps with the backward pass written out, over flat parameter buffers: the fast path of train.py.

The models in helpers/models stay plain torch modules and define what is computed; autograd on them is the
reference (tests/test_train_equivalence.py checks these steps against it, step by step, on the same seed).
Here the same step is spelled out as few, large operations:

- every parameter of a network becomes a view of one float32 buffer, and its gradient a view of another, so
  one fused optimizer call updates the whole network;
- each layer's forward is one ``addmm``; its backward writes the weight and bias gradients straight into their
  slots of the gradient buffer (``out=``) and computes the input's gradient only where something needs it;
- in bf16 (a Numerics whose dtype is bfloat16), one copy per optimizer step refreshes a bf16 copy of the
  weights, the matrix products and activations run in bf16, and one copy hands the bf16 gradients to the float32
  buffer. The losses, the KL term, the gradients of the losses' inputs, the master weights and the optimizer
  state stay float32.

Each step is written for its model classes and train.WRITTEN_OUT registers it for exactly those: a subclass trains
by autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from helpers.models import gan
from helpers.models.precision import Numerics
from helpers.models.vae import VAE

DEVICES = ("cpu",)  # measured here; a GPU keeps autograd's step (its launches, not its operators, dominate)


class UnsupportedModelError(TypeError):
    """A network of a registered model class holds a layer whose backward is not written here: its layers were
    changed after it was built (a network with other layers needs its own class, which trains by autograd)."""


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity applied in place, and its backward from the activation's output."""

    forward: Callable[[torch.Tensor], torch.Tensor]
    backward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def activation_of(module: nn.Module) -> Activation:
    """The Activation of a torch activation module (ReLU, LeakyReLU, Tanh, ELU, Softplus with default options)."""
    aten = torch.ops.aten
    if isinstance(module, nn.ReLU):
        return Activation(torch.relu_, lambda grad, out: aten.threshold_backward(grad, out, 0))
    if isinstance(module, nn.LeakyReLU):
        slope = module.negative_slope
        return Activation(lambda x: F.leaky_relu_(x, slope),
                          lambda grad, out: aten.leaky_relu_backward(grad, out, slope, True))
    if isinstance(module, nn.Tanh):
        return Activation(tanh_, aten.tanh_backward)
    if isinstance(module, nn.ELU) and module.alpha == 1.0:
        return Activation(F.elu_, lambda grad, out: aten.elu_backward(grad, 1.0, 1.0, 1.0, True, out))
    if isinstance(module, nn.Softplus) and module.beta == 1.0 and module.threshold == 20.0:
        return Activation(F.softplus, lambda grad, out: grad * -torch.expm1(-out))
    raise UnsupportedModelError(f"no written-out backward for {type(module).__name__}: a network with other layers "
                                "needs its own model class (one not in train.WRITTEN_OUT trains by autograd)")


def tanh_(x: torch.Tensor) -> torch.Tensor:
    """tanh in place, a bf16 x through float32: the same values as bf16's own kernel, three times faster on a CPU."""
    return x.copy_(torch.tanh(x.float())) if x.dtype == torch.bfloat16 else torch.tanh_(x)


class FlatParameters:
    """A network's parameters as views of one master buffer, with a gradient buffer and a compute copy beside it."""

    def __init__(self, module: nn.Module, compute_dtype: torch.dtype | None):
        parameters = list(module.parameters())
        master = torch.cat([p.detach().reshape(-1) for p in parameters])
        self.parameter = nn.Parameter(master)
        self.parameter.grad = torch.zeros_like(master)
        self.slots = self._rebind(parameters)
        dtype = master.dtype if compute_dtype is None else compute_dtype
        separate = dtype != master.dtype
        self.weights = torch.empty_like(master, dtype=dtype) if separate else self.parameter.data
        self.grads = torch.empty_like(master, dtype=dtype) if separate else self.parameter.grad
        self.refresh()
        module.register_load_state_dict_post_hook(lambda *_: self.refresh())  # a resumed checkpoint's weights

    def _rebind(self, parameters: list[nn.Parameter]) -> dict[nn.Parameter, slice]:
        """Point each module parameter at its slice of the master buffer; their slices."""
        slots, offset = {}, 0
        for p in parameters:
            slots[p] = slice(offset, offset + p.numel())
            p.data = self.parameter.data[slots[p]].view_as(p)
            offset += p.numel()
        return slots

    def weight(self, p: nn.Parameter) -> torch.Tensor:
        """The compute copy of p (the master itself in fp32)."""
        return self.weights[self.slots[p]].view_as(p)

    def grad(self, p: nn.Parameter) -> torch.Tensor:
        """The slot of p's gradient in the compute-precision gradient buffer."""
        return self.grads[self.slots[p]].view_as(p)

    def refresh(self) -> None:
        """Copy the master weights into the compute copy (nothing to do when they are one)."""
        if self.weights is not self.parameter.data:
            self.weights.copy_(self.parameter.data)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """Hand the gradients to the master buffer, step the optimizer, refresh the compute copy."""
        if self.grads is not self.parameter.grad:
            self.parameter.grad.copy_(self.grads)
        fused_step(optimizer)
        self.refresh()


def fused_step(optimizer: torch.optim.Optimizer) -> None:
    """optimizer.step() of a fused Adagrad or Adam over one flat parameter, calling the fused kernel directly.

    The Python around the kernel in optimizer.step() (grouping tensors by device, hooks) costs about 0.1 ms a call,
    5% of a GAN step; the kernel and its arguments are the ones optimizer.step() would use, so the result is the
    same bit for bit (tests/test_explicit.py). The first step, which creates the state, and any other optimizer or
    option go through optimizer.step().
    """
    group = optimizer.param_groups[0]
    state = optimizer.state[group["params"][0]]
    if not state or not directly_fused(optimizer):
        optimizer.step()
        return
    (p,) = group["params"]
    state["step"].add_(1)
    if type(optimizer) is torch.optim.Adagrad:
        torch._fused_adagrad_([p], [p.grad], [state["sum"]], [state["step"]], lr=group["lr"],
                              lr_decay=group["lr_decay"], weight_decay=group["weight_decay"], eps=group["eps"],
                              maximize=False)
    else:
        beta1, beta2 = group["betas"]
        torch._fused_adam_([p], [p.grad], [state["exp_avg"]], [state["exp_avg_sq"]], [], [state["step"]],
                           amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2,
                           weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)


def directly_fused(optimizer: torch.optim.Optimizer) -> bool:
    """Whether fused_step may call the kernel itself: one fused group of one parameter, Adagrad or plain Adam."""
    group = optimizer.param_groups[0]
    if len(optimizer.param_groups) > 1 or len(group["params"]) > 1 or not group["fused"] or group["maximize"]:
        return False
    plain_adam = type(optimizer) is torch.optim.Adam and not group["amsgrad"] \
        and not group.get("decoupled_weight_decay")
    return type(optimizer) is torch.optim.Adagrad or plain_adam


class Dense:
    """One linear layer read from a FlatParameters: forward, and a backward that fills its gradient slots."""

    def __init__(self, flat: FlatParameters, linear: nn.Linear):
        self.weight, self.bias = flat.weight(linear.weight), flat.weight(linear.bias)
        self.weight_grad, self.bias_grad = flat.grad(linear.weight), flat.grad(linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x @ W^T + b."""
        return torch.addmm(self.bias, x, self.weight.t())

    def backward(self, grad: torch.Tensor, x: torch.Tensor) -> None:
        """Write dL/dW = grad^T x and dL/db = sum(grad) into the gradient buffer."""
        torch.mm(grad.t(), x, out=self.weight_grad)
        torch.sum(grad, 0, out=self.bias_grad)

    def input_grad(self, grad: torch.Tensor) -> torch.Tensor:
        """dL/dx = grad @ W."""
        return torch.mm(grad, self.weight)


class MLP:
    """Linear layers, each optionally followed by an activation, read from an nn.Sequential (nested ones too)."""

    def __init__(self, flat: FlatParameters, *sequences: nn.Sequential):
        modules = [m for sequence in sequences for m in sequence]
        self.layers: list[tuple[Dense, Activation | None]] = []
        for module in modules:
            if isinstance(module, nn.Linear):
                self.layers.append((Dense(flat, module), None))
            elif self.layers and self.layers[-1][1] is None:
                self.layers[-1] = (self.layers[-1][0], activation_of(module))
            else:
                raise UnsupportedModelError(f"{type(module).__name__} does not follow a linear layer")

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The input and every layer's output (the last is the network's output)."""
        saved = [x]
        for dense, activation in self.layers:
            out = dense.forward(saved[-1])
            saved.append(activation.forward(out) if activation else out)
        return saved

    def backward(self, grad: torch.Tensor, saved: list[torch.Tensor], weights: bool = True,
                 input_grad: bool = False) -> torch.Tensor | None:
        """From dL/d(output): fill the weight gradients (if weights) and return dL/d(input) (if input_grad)."""
        for index in reversed(range(len(self.layers))):
            dense, activation = self.layers[index]
            if activation:
                grad = activation.backward(grad, saved[index + 1])
            if weights:
                dense.backward(grad, saved[index])
            if index or input_grad:
                grad = dense.input_grad(grad)
        return grad if input_grad else None


class VAEStep:
    """One Adagrad step of the VAE on a binary batch, as train.vae_step computes it; callable like it."""

    def __init__(self, model: VAE, optimizer_for: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
                 numerics: Numerics):
        self.flat = FlatParameters(model, numerics.dtype)
        self.encoder, self.decoder = MLP(self.flat, model.encoder), MLP(self.flat, model.decoder)
        self.optimizer = optimizer_for([self.flat.parameter])
        self.dtype = self.flat.weights.dtype

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Step on the binary batch x; its (loss, reconstruction, kl) in float32, detached, on the device."""
        n = len(x)
        encoded = self.encoder.forward(x.to(self.dtype))
        mean, log_var = encoded[-1].to(x.dtype).chunk(2, dim=-1)
        std = torch.exp(0.5 * log_var)
        eps = torch.randn(mean.shape, generator=generator, device=x.device, dtype=mean.dtype)
        decoded = self.decoder.forward((mean + std * eps).to(self.dtype))
        logits = decoded[-1].to(x.dtype)
        reconstruction, grad_logits = bernoulli_nll(logits, x)
        variance = std * std
        kl = 0.5 * (mean.square() + variance - 1.0 - log_var).sum() / n
        grad_z = self.decoder.backward(grad_logits.to(self.dtype), decoded, input_grad=True).to(x.dtype)
        grad_mean = grad_z + mean / n
        grad_log_var = 0.5 * (grad_z * eps * std + (variance - 1.0) / n)
        self.encoder.backward(torch.cat([grad_mean, grad_log_var], dim=-1).to(self.dtype), encoded)
        self.flat.step(self.optimizer)
        return torch.stack([reconstruction + kl, reconstruction, kl]).detach()


class GANSteps:
    """The discriminator's and the generator's steps of train.gan_epoch (plain GAN, digit head, AC-GAN), written out."""

    def __init__(self, gen: gan.Generator, disc: gan.Discriminator,
                 optimizer_for: Callable[[list[nn.Parameter], str], torch.optim.Optimizer], numerics: Numerics):
        self.gen, self.disc = gen, disc
        self.gen_flat, self.disc_flat = FlatParameters(gen, numerics.dtype), FlatParameters(disc, numerics.dtype)
        self.gen_mlp = MLP(self.gen_flat, gen.hidden, gen.out)
        self.disc_mlp = MLP(self.disc_flat, disc.hidden)
        self.real_fake = Dense(self.disc_flat, disc.real_fake)
        self.classify = Dense(self.disc_flat, disc.classify) if disc.classify is not None else None
        self.embed = self.gen_flat.weight(gen.embed.weight) if gen.embed is not None else None
        self.embed_grad = self.gen_flat.grad(gen.embed.weight) if gen.embed is not None else None
        self.gen_optimizer = optimizer_for([self.gen_flat.parameter], "G")
        self.disc_optimizer = optimizer_for([self.disc_flat.parameter], "D")
        self.dtype, self.loss_dtype = self.gen_flat.weights.dtype, self.gen_flat.parameter.dtype

    def generate(self, noise: torch.Tensor, asked: torch.Tensor | None) -> list[torch.Tensor]:
        """The generator's forward (noise joined to the asked digits' embedding): its input and layer outputs."""
        noise = noise.to(self.dtype)
        return self.gen_mlp.forward(noise if asked is None else torch.cat([noise, self.embed[asked]], dim=-1))

    def heads(self, features: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The real/fake logits (N,) and digit logits (N, 10) or None, at the losses' dtype."""
        logits = self.real_fake.forward(features).to(dtype).squeeze(-1)
        digits = self.classify.forward(features).to(dtype) if self.classify else None
        return logits, digits

    def heads_backward(self, grad_logits: torch.Tensor, grad_digits: torch.Tensor | None, features: torch.Tensor,
                       weights: bool) -> torch.Tensor:
        """From the heads' logit gradients: their weight gradients (if weights) and dL/d(features)."""
        grad_logits = grad_logits.unsqueeze(-1).to(self.dtype)
        grad_features = self.real_fake.input_grad(grad_logits)
        if weights:
            self.real_fake.backward(grad_logits, features)
        if grad_digits is not None:
            grad_digits = grad_digits.to(self.dtype)
            grad_features += self.classify.input_grad(grad_digits)
            if weights:
                self.classify.backward(grad_digits, features)
        return grad_features

    def discriminator(self, real: torch.Tensor, digits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One D step on real and as many generated images: (loss, D(x), D(G(z)), class loss, accuracy), detached."""
        n = len(real)
        asked = self.gen.random_labels(n, generator)
        fake = self.generate(self.gen.noise(n, generator), asked)[-1]
        saved = self.disc_mlp.forward(torch.cat([real.to(self.dtype), fake]))
        logits, digit_logits = self.heads(saved[-1], self.loss_dtype)
        probabilities = torch.sigmoid(logits)
        real_logits, fake_logits = logits.split(n)
        loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        grad_logits = probabilities.clone()
        grad_logits[:n] -= 1.0
        grad_logits /= n
        classes = correct = torch.zeros_like(loss)
        grad_digits = None
        if digit_logits is not None:
            real_digits = digit_logits[:n]
            classes = F.cross_entropy(real_digits, digits)
            correct = (real_digits.argmax(-1) == digits).to(loss.dtype).mean()
            wanted = torch.cat([digits, asked]) if asked is not None else digits
            grad_digits = cross_entropy_grad(digit_logits[:len(wanted)], wanted, n)
            if asked is None:
                grad_digits = torch.cat([grad_digits, torch.zeros_like(grad_digits)])
        grad_features = self.heads_backward(grad_logits, grad_digits, saved[-1], weights=True)
        self.disc_mlp.backward(grad_features, saved)
        self.disc_flat.step(self.disc_optimizer)
        real_p, fake_p = probabilities.split(n)
        return torch.stack([loss, real_p.mean(), fake_p.mean(), classes, correct]).detach()

    def generator(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """One G step on n generated images (D passes gradients through; its weights get none); G's loss, detached."""
        asked = self.gen.random_labels(n, generator)
        made = self.generate(self.gen.noise(n, generator), asked)
        saved = self.disc_mlp.forward(made[-1])
        logits, digit_logits = self.heads(saved[-1], self.loss_dtype)
        loss = F.softplus(-logits).mean()
        grad_digits = cross_entropy_grad(digit_logits, asked, n) if asked is not None else None
        grad_features = self.heads_backward((torch.sigmoid(logits) - 1.0) / n, grad_digits, saved[-1], weights=False)
        grad_made = self.disc_mlp.backward(grad_features, saved, weights=False, input_grad=True)
        grad_input = self.gen_mlp.backward(grad_made, made, input_grad=asked is not None)
        if asked is not None:
            self.embed_grad.zero_().index_add_(0, asked, grad_input[:, self.gen.noise_dim:])
        self.gen_flat.step(self.gen_optimizer)
        return loss.detach()


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """-log p(x|z) summed over pixels, batch mean, for binary x; and its gradient in the logits.

    With q = sigmoid(+-logits), the probability given to the observed value, the loss is -log q and the gradient
    (q - 1) times the sign: three transcendental-free passes and one log, where BCE-with-logits' softplus costs
    several times as much on a CPU. q is kept above the smallest normal number, so the loss stays finite (and
    exact up to a logit of 87 against the observed pixel in float32); the gradient never depended on it.
    """
    n = len(x)
    sign = 2.0 * x - 1.0
    observed = torch.sigmoid(logits * sign)
    loss = -observed.clamp_min(torch.finfo(observed.dtype).tiny).log_().sum() / n
    return loss, observed.sub_(1.0).mul_(sign).div_(n)


def cross_entropy_grad(logits: torch.Tensor, labels: torch.Tensor, n: int) -> torch.Tensor:
    """d/d(logits) of the cross-entropy summed over rows and divided by n: (softmax - one-hot) / n."""
    grad = torch.softmax(logits, dim=-1)
    grad[torch.arange(len(labels), device=labels.device), labels] -= 1.0
    return grad.div_(n)
