"""Running a trained model on feature matrices: CMVN, padding, forward pass and CTC search (greedy, beam, or
under a word-count grammar: :mod:`gatescope.asr.decoding.grammar`).

No Lightning and no data-dir code: decoding, the robustness report and streaming share this path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from gatescope.asr.decoding.grammar import BEAM_WITH_GRAMMAR, WordCountGrammar, grammar_search
from gatescope.asr.decoding.hypothesis import Hypothesis
from gatescope.asr.features.cmvn import normalize_features
from gatescope.asr.models.acoustic import AcousticModel
from gatescope.errors import InputError


def greedy_paths(log_probs: Tensor, lengths: Tensor) -> list[Hypothesis]:
    """Best path: argmax per frame, repeats merged, blanks (0) removed. ``log_probs``: (batch, time, tokens)."""
    best = log_probs.argmax(dim=-1).cpu()
    out = []
    for row, length in zip(best, lengths.tolist(), strict=True):
        path = row[:length].tolist()
        keep = [i for i, t in enumerate(path) if t != 0 and (i == 0 or path[i - 1] != t)]
        out.append(Hypothesis([path[i] for i in keep], keep))
    return out


def greedy_decode(log_probs: Tensor, lengths: Tensor) -> list[list[int]]:
    """The token ids of :func:`greedy_paths`."""
    return [h.ids for h in greedy_paths(log_probs, lengths)]


def make_beam_decoder(tokens: list[str], beam: int) -> Any:
    """torchaudio's CTC prefix beam search (flashlight-text) over ``tokens`` (blank first), no lexicon or LM."""
    from torchaudio.models.decoder import ctc_decoder

    return ctc_decoder(
        lexicon=None,
        tokens=tokens,
        beam_size=beam,
        blank_token=tokens[0],
        sil_token=tokens[0],
        unk_word=tokens[0],
        log_add=True,
    )


def beam_paths(log_probs: Tensor, lengths: Tensor, tokens: list[str], beam: int) -> list[Hypothesis]:
    """CTC prefix beam search without a lexicon or LM (flashlight-text through torchaudio)."""
    decoder = make_beam_decoder(tokens, beam)
    results = decoder(log_probs.float().cpu().contiguous(), lengths.cpu().int())
    out = []
    for hyps in results:
        if not hyps:
            out.append(Hypothesis([], []))
            continue
        ids, steps = hyps[0].tokens.tolist(), hyps[0].timesteps.tolist()
        # flashlight brackets the path with the silence token (our blank): drop those.
        pairs = [(i, s) for i, s in zip(ids, steps, strict=True) if i != 0]
        out.append(Hypothesis([i for i, _ in pairs], [s for _, s in pairs]))
    return out


def beam_decode(log_probs: Tensor, lengths: Tensor, tokens: list[str], beam: int) -> list[list[int]]:
    """The token ids of :func:`beam_paths`."""
    return [h.ids for h in beam_paths(log_probs, lengths, tokens, beam)]


def normalize(feats: np.ndarray, mode: str, speaker_stats: np.ndarray | None, norm_vars: bool) -> Tensor:
    """Raw ``(frames, dim)`` features as the model saw them in training (``mode``: its ``cmvn_mode``)."""
    normalised = normalize_features(feats, mode, speaker_stats, norm_vars)
    return torch.from_numpy(np.ascontiguousarray(normalised, dtype=np.float32))


def pad(feats: list[Tensor]) -> tuple[Tensor, Tensor]:
    """``[(time_i, dim)]`` -> zero-padded ``(batch, max_time, dim)`` and ``(batch,)`` lengths."""
    lengths = torch.tensor([f.shape[0] for f in feats])
    return torch.nn.utils.rnn.pad_sequence(feats, batch_first=True), lengths


@torch.no_grad()
def emissions(model: AcousticModel, feats: list[Tensor], batch_size: int = 16) -> list[Tensor]:
    """CTC log-probs ``(out_frames, tokens)`` for each normalised feature matrix, in input order (batched by
    length; frames at the model's output rate)."""
    order = sorted(range(len(feats)), key=lambda i: feats[i].shape[0])
    out: list[Tensor | None] = [None] * len(feats)
    device = next(model.parameters()).device
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        batch, lengths = pad([feats[i] for i in chosen])
        log_probs = model(batch.to(device), lengths.to(device)).log_probs
        for i, length, row in zip(chosen, model.output_lengths(lengths).tolist(), log_probs.cpu(), strict=True):
            out[i] = row[:length]
    return [e for e in out if e is not None]


def transcribe(
    model: AcousticModel,
    feats: list[Tensor],
    beam: int = 0,
    batch_size: int = 16,
    grammar: WordCountGrammar | None = None,
) -> list[Hypothesis]:
    """Decode normalised feature matrices (see :func:`normalize`) greedily, with a prefix beam search or under a
    word-count grammar (:func:`search`).

    Returns one :class:`Hypothesis` per input, in input order; frames are at the model's output rate
    (``frame_stack`` input frames each)."""
    return search(emissions(model, feats, batch_size), model.tokens, beam, grammar)


def search(
    log_probs: list[Tensor], tokens: list[str], beam: int = 0, grammar: WordCountGrammar | None = None
) -> list[Hypothesis]:
    """Greedy (``beam=0``) or prefix beam search over per-utterance ``(frames, tokens)`` log-probs; with a
    ``grammar`` (word models), the best path whose word count it allows (``beam`` must then be 0)."""
    if grammar is not None:
        if beam:
            raise InputError(BEAM_WITH_GRAMMAR)
        return grammar_search(log_probs, grammar)
    if not log_probs:
        return []
    batch, lengths = pad(log_probs)
    return beam_paths(batch, lengths, tokens, beam) if beam else greedy_paths(batch, lengths)
