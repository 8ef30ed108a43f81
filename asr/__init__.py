"""gatescope.asr: corpora, Kaldi data dirs, features, recurrent cells, acoustic models, training and decoding."""

from gatescope.asr.model import load_model

__all__ = ["load_model"]
