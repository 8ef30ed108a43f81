"""Decoding and scoring: greedy and beam CTC search, lexicon + word-LM search, n-gram LMs, sclite-style scoring
and the results table.

In: a trained model and a data dir with features. Out: hypotheses, PER/WER with per-utterance counts.
"""
