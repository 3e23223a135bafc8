"""Seed offsets, in one place: each random stream of a run draws from its seed plus an offset of its own, so
that no two streams share draws and a resumed run draws what an uninterrupted one would."""

EVAL_BINARIZATION = 10_007  # the one fixed binarization of the validation and test images
PROGRESS_SAMPLES = 20_011  # the fixed noise behind a GAN's progress samples
MONITORED_SAMPLES = 30_011  # the fixed noise batch the classifier scores while a GAN trains
DROPOUT_MASKS = 30_013  # the classifier's dropout masks (plus the epoch)
NLL_PROPOSALS = 40_009  # the IS-NLL's draws from the encoder
SCORED_SAMPLES = 50_021  # the 10,000 samples scored after training
GAN_TRAIN_SAMPLES = 60_013  # the conditional generator's digits that GAN-train trains a classifier on
