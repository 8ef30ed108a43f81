"""Features: Kaldi-compatible fbank/MFCC, CMVN, Kaldi ark/scp files, and the online (chunk-by-chunk) front end.

In: waveforms (a data dir's ``wav.scp``, or audio chunks). Out: ``feats.scp``/``cmvn.scp``/``labels.scp`` arks,
or normalised feature frames equal to the offline ones.
"""
