"""The networks and their losses: the VAE, the GAN's generator and discriminator, and the scoring classifier."""
