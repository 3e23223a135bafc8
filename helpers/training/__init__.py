"""Training: the epoch loops and `fit`, their written-out steps, checkpoints and resume, the GAN's monitor,
GAN-train and GAN-test, the classifier's training."""
