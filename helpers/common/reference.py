"""The writeup's reported numbers, to compare our runs against (never to tune toward)."""

WRITEUP_VAE_LOSS = {  # latent_dim -> (final train, final validation) negative ELBO in nats, after 200 epochs
    2: (157.2260, 157.1835),
    20: (102.6910, 102.6716),
}
WRITEUP_VAE_EPOCHS = 200
WRITEUP_GAN_EPOCHS = 300
WRITEUP_GAN_CLAIM = "appear similar to the original network"  # the writeup on its auxiliary GAN's samples

# Published test-set negative log-likelihoods (nats) of VAEs on binarized MNIST, each with its K (importance samples)
# and what differs from ours. Davidson et al. estimate with K = 500 on all 10,000 test images, as our K = 500 row.
PUBLISHED_NLL = [  # (source, model, latent size, NLL, K, what differs)
    ("Davidson et al. 2018, Table 1", "Gaussian VAE, latent 2", 2, 135.73, 500,
     "architecture (their MLP sizes); their training images and training length"),
    ("Davidson et al. 2018, Table 1", "Gaussian VAE, latent 20", 20, 88.90, 500,
     "architecture (their MLP sizes); their training images and training length"),
    ("Burda et al. 2015", "VAE, one stochastic layer", 50, 86.76, 5000,
     "50 latent units, tanh MLPs; their training images; 3,280 epochs"),
]
LIKE_FOR_LIKE_SAMPLES = 500  # the K of Davidson et al. (2018): our VAEs are also scored at it, beside their rows
