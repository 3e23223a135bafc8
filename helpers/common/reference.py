"""The writeup's reported numbers, to compare our runs against (never to tune toward)."""

WRITEUP_VAE_LOSS = {  # latent_dim -> (final train, final validation) negative ELBO in nats, after 200 epochs
    2: (157.2260, 157.1835),
    20: (102.6910, 102.6716),
}
WRITEUP_VAE_EPOCHS = 200
WRITEUP_GAN_EPOCHS = 300
WRITEUP_GAN_CLAIM = "appear similar to the original network"  # the writeup on its auxiliary GAN's samples

LIKE_FOR_LIKE_SAMPLES = 500  # the K of Davidson et al. (2018): our VAEs are also scored at it, beside their rows
