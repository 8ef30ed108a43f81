"""gatescope.asr.cells: recurrent layers (LSTM, GRU, RNN, Greff's LSTM variants, Tang's lazy update).

Imports torch only, so analysis tools and users can load a model without the training stack.
The equations are in :mod:`gatescope.asr.cells.equations`.
"""

from gatescope.asr.cells.equations import LSTM_VARIANTS, LSTMFlags
from gatescope.asr.cells.stack import KINDS, RecurrentStack

__all__ = ["KINDS", "LSTM_VARIANTS", "LSTMFlags", "RecurrentStack"]
