"""Corpora -> Kaldi data dirs: readers for TIMIT, WSJ, LibriSpeech and the spoken digits, and the synthetic
corpus generators (``synth/``).

In: a corpus on disk in its distributed layout. Out: validated data dirs (``wav.scp``, ``text``, ``utt2spk`` ...).
"""
