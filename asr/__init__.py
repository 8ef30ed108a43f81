"""gatescope.asr: speech recognition, one subpackage per stage.

corpora/ -> data/ (Kaldi data dirs) -> features/ -> models/ (cells, acoustic model) -> training/ -> decoding/
-> streaming/. ``phones`` and ``tokens`` (the TIMIT phone sets and CTC token tables) are shared by all of them.
"""

from gatescope.asr.models.checkpoint import load_model
from gatescope.asr.streaming.recognizer import Event, Recognizer

__all__ = ["Event", "Recognizer", "load_model"]
