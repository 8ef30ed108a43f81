"""gatescope.asr: corpora, Kaldi data dirs, features, recurrent cells, acoustic models, training and decoding."""

from gatescope.asr.model import load_model
from gatescope.asr.streaming import Event, Recognizer

__all__ = ["Event", "Recognizer", "load_model"]
