"""The library the notebooks import, in wings: one folder each, imports pointing down the floors only.

    report/      the report layer: the command line, findings, the document, HTML and PDF       torch-free
    runs/        the run layer: profiles, sweeps, the cache key, executor, runner, lock         torch-free
    explorers/   ipywidgets sliders and the report explorers' payloads
    training/    the epoch loops and fit, checkpoints, the GAN's monitor, the classifier's training
    evaluation/  likelihood, latent usage, classifier scores, the studies' summaries
    models/      the networks and their losses, matrix-product precision
    data.py, plots.py, outputs.py, captions.py   the splits; one function per figure; what a run writes; its words
    config/      every notebook's parameters (pydantic)                                         torch-free
    common/      the run folder's owner, run files and safe writes, paths, tables, references    torch-free

A module imports only from its own floor or lower ones (tests/test_layers.py draws the graph and checks it).
"""

TORCH_FREE = ("common", "config", "runs", "report")  # these wings never import torch or ipywidgets
NOT_HASHED = ("runs", "report")  # no notebook imports these: changing them never changes a run's outputs
FLOORS = {"common": 0, "config": 1, "data": 2, "plots": 2, "outputs": 2, "captions": 2, "models": 3, "evaluation": 4,
          "training": 5, "explorers": 6, "runs": 2, "report": 3}
# The run and report layers form their own column: they stand on config and common, never on the science.
SCIENCE = ("data", "plots", "outputs", "captions", "models", "evaluation", "training", "explorers")
