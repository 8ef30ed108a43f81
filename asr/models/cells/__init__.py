"""gatescope.asr.models.cells: recurrent layers (LSTM, GRU, RNN, Greff's LSTM variants, Tang's lazy update).

Imports torch only, so analysis tools and users can load a model without the training stack.
The equations are in :mod:`gatescope.asr.models.cells.equations`.
"""

from gatescope.asr.models.cells.equations import LSTM_VARIANTS, LSTMFlags
from gatescope.asr.models.cells.stack import KINDS, RecurrentStack

__all__ = ["KINDS", "LSTM_VARIANTS", "LSTMFlags", "RecurrentStack"]
