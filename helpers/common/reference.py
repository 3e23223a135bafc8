"""The writeup's reported numbers, to compare our runs against (never to tune toward)."""

WRITEUP_VAE_LOSS = {  # latent_dim -> (final train, final validation) negative ELBO in nats, after 200 epochs
    2: (157.2260, 157.1835),
    20: (102.6910, 102.6716),
}
WRITEUP_VAE_EPOCHS = 200
WRITEUP_GAN_EPOCHS = 300
WRITEUP_GAN_CLAIM = "appear similar to the original network"  # the writeup on its auxiliary GAN's samples

# Published test-set negative log-likelihoods (nats) of VAEs on binarized MNIST, each with what differs from ours.
PUBLISHED_NLL = [  # (source, model, latent size, NLL, what differs)
    ("Davidson et al. 2018, Table 1", "Gaussian VAE, latent 2", 2, 135.73,
     "ReLU MLPs of other sizes; dynamic binarization; their training length"),
    ("Davidson et al. 2018, Table 1", "Gaussian VAE, latent 20", 20, 88.90,
     "ReLU MLPs of other sizes; dynamic binarization; their training length"),
    ("Burda et al. 2015", "VAE, one stochastic layer", 50, 86.76,
     "50 latent units, tanh MLPs; 3,280 epochs"),
]
