"""Training with PyTorch Lightning (the only place Lightning is imported): config, data module, Lightning module
and the trainer that writes an experiment dir.

In: a training config and data dirs with features. Out: ``exp/X`` with ``best.ckpt``, ``last.ckpt`` (and
``averaged.ckpt``), the config, the token table, the feature config and the training CMVN statistics.
"""
