"""Noise robustness: every model decoded under every noise condition on identical audio, plus an external
recogniser (PocketSphinx) as an anchor.

In: trained models, a data dir and noise conditions. Out: ``results.json``/``results.csv`` and hypotheses.
"""
