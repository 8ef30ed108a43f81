"""Streaming recognition: ``Recognizer(model).accept(chunk) -> events``.

Audio arrives in chunks of any size. Features are computed online (equal to the offline ones), normalised with
online CMVN (the training statistics moving to the stream's), a sliding window or the training statistics, stacked
as in training, and run through the recurrent stack with its state carried across chunks (in numpy for standard
LSTM and GRU layers, :mod:`~gatescope.asr.streaming.numpy_stack`). CTC search is greedy or prefix beam search
(torchaudio's decoder, stepped frame block by frame block). After every chunk the current best hypothesis is a
*partial* event; an *endpoint* — a run of ``endpoint_ms`` of blank or silence frames (``sil``) after some speech —
turns it into a *final* event and starts a new segment. With greedy search the concatenated finals equal the
offline greedy result.

With a :class:`~gatescope.noise.StreamPerturber` the audio is perturbed before the front end; ``shadow=True``
runs a second, clean copy of the network state so that the live distance between the perturbed and clean states
(per layer) can be read after each chunk — the forgetting curve, live.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gatescope.asr.decoding.grammar import WordCountGrammar, grammar_path, require_word_model
from gatescope.asr.decoding.search import make_beam_decoder
from gatescope.asr.features.cmvn import OnlineCMVN, speech_floor, streaming_cmvn
from gatescope.asr.features.fbank import FeatureConfig
from gatescope.asr.features.online import OnlineFeatures
from gatescope.asr.models.acoustic import AcousticModel
from gatescope.asr.models.checkpoint import experiment_features, load_model
from gatescope.asr.streaming.numpy_stack import NumpyStack, unsupported_reason
from gatescope.asr.tokens import TokenTable
from gatescope.errors import InputError
from gatescope.noise import StreamPerturber

SILENCE_TOKENS = frozenset({"sil", "<sil>", "SIL"})  # tokens that count toward an endpoint, like the blank


@dataclass(frozen=True)
class Event:
    """A ``partial`` or ``final`` hypothesis of the current segment, with times in seconds of stream audio."""

    kind: str
    text: str
    start_s: float
    end_s: float

    def as_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (times rounded to milliseconds)."""
        return {"type": self.kind, "text": self.text, "start": round(self.start_s, 3), "end": round(self.end_s, 3)}


@contextmanager
def _without_onednn() -> Iterator[None]:
    """PyTorch's native CPU recurrent kernels instead of oneDNN's: oneDNN re-packs the weights on every call, which
    for a chunk of a few frames costs more than the frames (a 3-frame 256-unit LSTM layer: 0.75 ms against 0.27 ms
    on one core); on long inputs oneDNN is the faster one, so only streaming steps use this."""
    previous = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False  # type: ignore[assignment]  # a settable module property, not in the stubs
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = previous


class _Network:
    """The model's recurrent state across chunks, with frame stacking. With ``stack`` (a standard LSTM or GRU)
    the frames run through numpy's one-row products (:class:`~gatescope.asr.streaming.numpy_stack.NumpyStack`,
    the faster for a few frames at a time), otherwise through the model's PyTorch forward pass."""

    def __init__(self, model: AcousticModel, stack: NumpyStack | None) -> None:
        self.model, self.stack = model, stack
        self.pending = np.zeros((0, model.input_dim), np.float32)  # frames short of a whole stack
        self.stack_state = stack.zero_state() if stack is not None else None
        self.torch_state: tuple[Tensor, ...] | None = None
        self.started = False

    @property
    def state(self) -> tuple[Tensor, ...] | None:
        """The recurrent state after the last step, in the model's layout (None before the first)."""
        if not self.started:
            return None
        if self.stack is not None and self.stack_state is not None:
            return self.stack.as_tensors(self.stack_state)
        return self.torch_state

    def step(self, frames: np.ndarray, final: bool = False) -> np.ndarray:
        """Log-probs ``(out_frames, tokens)`` for the complete stacks in ``pending + frames`` (all, zero-padded,
        when ``final``)."""
        k = self.model.frame_stack
        joined = np.concatenate([self.pending, frames]) if self.pending.shape[0] else frames
        usable = joined.shape[0] if final else joined.shape[0] // k * k
        self.pending = joined[usable:]
        if usable == 0:
            return np.zeros((0, self.model.num_tokens), np.float32)
        self.started = True
        if self.stack is not None and self.stack_state is not None:
            whole = joined[:usable]
            if usable % k:  # the last, partial stack of a stream's end: zero-padded, as the model's stack_frames
                whole = np.concatenate([whole, np.zeros((k - usable % k, whole.shape[1]), np.float32)])
            return self.stack.step(whole.reshape(-1, k * whole.shape[1]), self.stack_state)
        with torch.inference_mode(), _without_onednn():
            out = self.model(torch.from_numpy(joined[:usable]).unsqueeze(0), None, self.torch_state)
        self.torch_state = out.final_state
        return out.log_probs[0].numpy()


class Recognizer:
    """A streaming recognizer around a trained unidirectional CTC model.

    Args:
        model: an :class:`AcousticModel` (from :func:`load_model`) or an experiment dir / checkpoint.
        beam: 0 for greedy search, else the prefix beam size.
        cmvn: ``"global"`` (training statistics), ``"sliding"``, ``"online"`` (the training statistics adapted to
            what the stream has brought, as Kaldi's online CMVN) or ``"none"``; None: what matches the model's
            training normalisation (see :func:`~gatescope.asr.features.cmvn.streaming_cmvn`).
        endpoint_ms: a run of frames whose best token is blank or a silence token that ends a segment (0: never).
        perturber: perturb the incoming audio (live noise injection).
        shadow: also run a clean copy of the state; see :meth:`memory_distance`.
        numpy_stack: run a standard LSTM or GRU frame by frame in numpy (faster for small chunks; equal to float
            rounding; the weights are copied when the Recognizer is made); False: the model's PyTorch forward.
        grammar: word models: each final is the segment's best path with a word count the grammar allows
            (partials stay greedy). Without endpointing (``endpoint_ms=0``: the stream is one utterance, as
            ``score-real`` streams a recording) the stream's end always gives a final, even where greedy search
            heard no word.
    """

    def __init__(
        self,
        model: AcousticModel | str | Path,
        beam: int = 0,
        cmvn: str | None = None,
        endpoint_ms: float = 600.0,
        perturber: StreamPerturber | None = None,
        shadow: bool = False,
        features: FeatureConfig | None = None,
        cmvn_stats: np.ndarray | None = None,
        numpy_stack: bool = True,
        grammar: WordCountGrammar | None = None,
    ) -> None:
        self.model = load_model(model) if not isinstance(model, AcousticModel) else model
        if grammar is not None:
            target = str(self.model.train_config.get("target", "phones"))
            require_word_model(target, self.model.source or "the model", beam)
        self.grammar = grammar
        cmvn = cmvn or streaming_cmvn(self.model.cmvn_mode)
        if self.model.config.bidirectional:
            raise InputError("streaming needs a unidirectional model; this one is bidirectional")
        if features is None or (cmvn in ("global", "online") and cmvn_stats is None):
            if self.model.source is None:
                raise InputError(
                    "a model built in memory needs features= and cmvn_stats= (or load it from its exp dir)"
                )
            saved = experiment_features(self.model.source)
            features = features or saved.config
            cmvn_stats = cmvn_stats if cmvn_stats is not None else saved.cmvn_stats
        self.features_config = features
        self.sample_rate = features.sample_rate
        self.tokens = TokenTable(tuple(self.model.tokens), str(self.model.train_config.get("target", "phones")))
        self.beam, self.cmvn_mode, self.cmvn_stats = beam, cmvn, cmvn_stats
        self.frame_s = features.frame_shift_ms / 1000 * self.model.frame_stack
        self.endpoint_frames = round(endpoint_ms / 1000 / self.frame_s) if endpoint_ms > 0 else 0
        self.perturber, self.shadow_enabled = perturber, shadow
        self.norm_vars = bool(self.model.train_config.get("norm_vars", True))
        self.silence = {0} | {i for i, t in enumerate(self.model.tokens) if t in SILENCE_TOKENS}
        # numpy's path for standard cells (weights copied now); PyTorch's for the others and with numpy_stack=False
        self.numpy_stack = NumpyStack(self.model) if numpy_stack and unsupported_reason(self.model) is None else None
        # online CMVN leaves digital silence out of its statistics (see OnlineCMVN)
        self.cmvn_floor = speech_floor(features.silence_level()) if cmvn == "online" else -math.inf
        self.reset()

    def reset(self, keep_cmvn: bool = False) -> None:
        """Start a new stream; ``keep_cmvn`` keeps the CMVN history (the same speaker and microphone again)."""
        self.front = OnlineFeatures(self.features_config)
        if not keep_cmvn:
            self.cmvn = self._new_cmvn()
        self.network = _Network(self.model, self.numpy_stack)
        if self.shadow_enabled:
            self.shadow_front = OnlineFeatures(self.features_config)
            if not keep_cmvn:
                self.shadow_cmvn = self._new_cmvn()
            self.shadow = _Network(self.model, self.numpy_stack)
        if self.perturber is not None:
            self.perturber.reset()
        self.frames = 0  # output frames decoded
        self.segment_start = 0
        self.finals: list[str] = []
        self._begin_segment()

    def _new_cmvn(self) -> OnlineCMVN:
        if self.cmvn_mode != "online":
            return OnlineCMVN(self.cmvn_mode, self.cmvn_stats, self.norm_vars)
        return OnlineCMVN(self.cmvn_mode, self.cmvn_stats, self.norm_vars, levels=self.features_config.frame_levels,
                          min_level=self.cmvn_floor)  # fmt: skip

    def _begin_segment(self) -> None:
        self.segment_start = self.frames
        self.last_token = 0
        self.segment_ids: list[int] = []
        self.blank_run = 0
        self.heard_speech = False  # a frame whose best token is speech since the segment began
        self.segment_log_probs: list[np.ndarray] = []  # kept for the grammar's search at the final
        self.decoder = None
        if self.beam:
            self.decoder = make_beam_decoder(list(self.model.tokens), self.beam)
            self.decoder.decode_begin()

    def accept(self, chunk: np.ndarray | Tensor) -> list[Event]:
        """Feed the next samples (float in [-1, 1], mono, at ``sample_rate``); returns the events they caused."""
        samples = chunk.numpy() if isinstance(chunk, Tensor) else np.asarray(chunk, dtype=np.float32)
        samples = samples.reshape(-1).astype(np.float32)
        clean = samples
        if self.perturber is not None:
            samples = self.perturber.process(torch.from_numpy(samples)).numpy()
        log_probs = self.network.step(self._front(self.front, self.cmvn, samples))
        if self.shadow_enabled:
            self.shadow.step(self._front(self.shadow_front, self.shadow_cmvn, clean))
        return self._search(log_probs)

    def finish(self) -> list[Event]:
        """End of the stream: decode what is buffered (a partial last stack, zero-padded) and emit the final."""
        log_probs = self.network.step(np.zeros((0, self.model.input_dim), np.float32), final=True)
        events = self._search(log_probs)
        whole_stream = self.grammar is not None and not self.endpoint_frames and self.frames > self.segment_start
        if self._segment_text() or whole_stream:
            events.append(self._final())
        return events

    @property
    def text(self) -> str:
        """Everything recognised so far: the finals and the current partial."""
        return " ".join(t for t in [*self.finals, self._segment_text()] if t)

    def memory_distance(self) -> list[float]:
        """Per layer, the Euclidean distance between the perturbed and the clean shadow's state (h and c
        together for an LSTM), after the last chunk."""
        if not self.shadow_enabled or self.network.state is None or self.shadow.state is None:
            return []
        layers = self.model.config.num_layers
        out = []
        for k in range(layers):
            diff = [(a[k] - b[k]).pow(2).sum() for a, b in zip(self.network.state, self.shadow.state, strict=True)]
            out.append(float(torch.stack(diff).sum().sqrt()))
        return out

    def _front(self, front: OnlineFeatures, cmvn: OnlineCMVN, samples: np.ndarray) -> np.ndarray:
        return cmvn.apply(front.accept(samples))

    def _search(self, log_probs: np.ndarray) -> list[Event]:
        """Advance the search over new frames; a segment ends where the blank run reaches the endpoint."""
        events: list[Event] = []
        best = log_probs.argmax(axis=-1).tolist()
        pending = 0  # first frame not yet given to the beam decoder
        for i, token in enumerate(best):
            if token not in self.silence:
                self.heard_speech = True
            if token != 0:
                if self.decoder is None and token != self.last_token:
                    self.segment_ids.append(token)
            self.last_token = token
            self.frames += 1
            self.blank_run = self.blank_run + 1 if token in self.silence else 0
            if self.endpoint_frames and self.blank_run >= self.endpoint_frames and self.heard_speech:
                self._feed(log_probs[pending : i + 1])
                pending = i + 1
                events.append(self._final())
        self._feed(log_probs[pending:])
        text = self._segment_text() if log_probs.shape[0] else ""
        if text:
            events.append(Event("partial", text, self._time(self.segment_start), self._time(self.frames)))
        return events

    def _feed(self, frames: np.ndarray) -> None:
        if self.grammar is not None:
            self.segment_log_probs.append(frames)
        if self.decoder is not None and frames.shape[0]:
            self.decoder.decode_step(torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)))

    def _segment_ids(self) -> list[int]:
        if self.decoder is None:
            return self.segment_ids
        hyps = self.decoder.get_final_hypothesis()
        return [t for t in hyps[0].tokens.tolist() if t != 0] if hyps else []

    def _segment_text(self) -> str:
        return " ".join(self.tokens.decode(self._segment_ids()))

    def _final(self) -> Event:
        if self.decoder is not None:
            self.decoder.decode_end()
        if self.grammar is not None:
            frames = self.segment_log_probs
            ids = grammar_path(np.concatenate(frames), self.grammar).ids if frames else []
            text = " ".join(self.tokens.decode(ids))
        else:
            text = self._segment_text()
        event = Event("final", text, self._time(self.segment_start), self._time(self.frames))
        self.finals.append(text)
        self._begin_segment()
        return event

    def _time(self, frame: int) -> float:
        return frame * self.frame_s
