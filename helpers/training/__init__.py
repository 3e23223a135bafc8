"""Training: the epoch loops and `fit`, checkpoints and resume, the GAN's monitor, and matrix-product precision."""
