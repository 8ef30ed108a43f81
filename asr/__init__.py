"""gatescope.asr: corpora, Kaldi data dirs, features (and later models, training, decoding, streaming)."""
