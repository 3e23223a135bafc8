"""Evaluation: the importance-sampled likelihood, latent usage, classifier scores, and the studies' summaries."""
