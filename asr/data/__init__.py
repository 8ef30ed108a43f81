"""Kaldi data dirs: audio reading (WAV, SPHERE), table reading/writing, validation, noise applied to a whole data
dir, and the dataset that turns a data dir with features into CTC examples.

In: ``wav.scp``, ``text``, ``utt2spk`` ... tables and their audio. Out: checked tables, waveforms, CTC batches.
"""
