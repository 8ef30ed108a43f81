"""``gatescope corpus synth``: a synthetic read-speech corpus in TIMIT's on-disk layout.

``OUT/{TRAIN,TEST}/DR<n>/<SPEAKER>/<UTT>.{WAV,PHN,WRD,TXT}``: 16 kHz NIST SPHERE audio, ``.PHN``/``.WRD`` as
"start_sample end_sample label", ``.TXT`` as "0 end_sample text". ``OUT/DOC`` holds the speaker table, the dev
and core-test speaker lists, per-utterance alignment statistics and SUMMARY.json.

Every utterance is a pure function of (seed, speaker, index): the same seed gives a byte-identical corpus
whatever ``jobs`` is, and a re-run skips utterances whose files and statistics are already there.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF
from tqdm import tqdm

from gatescope.asr.corpora.synth.align import (
    STRESS_MARKS,
    Alignment,
    align,
    extend_silence,
    load_symbol_map,
    rescale_segments,
    segment_lines,
    tokenize,
)
from gatescope.asr.corpora.synth.backends import require_backends
from gatescope.asr.corpora.synth.espeak import Espeak, Synthesis, VoiceSettings, run_isolated
from gatescope.asr.corpora.synth.festival import FestivalVoice
from gatescope.asr.corpora.synth.festival import speak as festival_speak
from gatescope.asr.corpora.synth.flite import FliteVoice, word_phones
from gatescope.asr.corpora.synth.flite import synthesize as flite_synthesize
from gatescope.asr.corpora.synth.piper import PAUSE, PiperVoice, phonemize
from gatescope.asr.corpora.synth.piper import synthesize as piper_synthesize
from gatescope.asr.corpora.synth.speakers import Speaker, make_speakers
from gatescope.asr.corpora.synth.text import Lexicon, SentenceGenerator
from gatescope.asr.corpora.synth.timed import TimedSynthesis, align_timed
from gatescope.asr.data.sphere import read_header, sphere_bytes
from gatescope.asr.phones import PhoneMap
from gatescope.errors import InputError
from gatescope.files import write_bytes_atomic, write_text_atomic
from gatescope.resources import conf_path

STATS_FILE = "ALIGNMENT_STATS.tsv"
STAT_NAMES = (
    "exact",
    "split",
    "closure",
    "epi",
    "zero_length_split",
    "dropped_zero_length_pauses",
    "merged_word_split",
    "joined_double",
    "stop_split",
)


@dataclass(frozen=True)
class SynthCorpusConfig:
    """Size and acoustics of the synthetic corpus. The defaults give the demo corpus (about 55 minutes): many
    voices rather than many sentences each, since unseen voices are what a test set measures."""

    speakers: int = 40
    test_speakers: int = 8  # split between dev and core test, as TIMIT's TEST speakers are
    utts_per_speaker: int = 25
    seed: int = 0
    backends: tuple[str, ...] = ("espeak",)  # synthesizers the speakers take turns on: espeak, flite
    lexicon: str = ""  # the prompt grammar (YAML as conf/synth_lexicon.yaml); "": that package file
    sample_rate: int = 16000
    lead_silence_ms: tuple[int, int] = (120, 300)  # h# before and after the speech, drawn per utterance
    noise_floor_dbfs: float = -65.0  # white noise under the whole file: no digital silence, as in recordings
    gain_db: tuple[float, float] = (-6.0, 0.0)  # per-utterance level variation
    # Prompt selection, as TIMIT's SX sentences were chosen for phone coverage: draw this many candidate
    # sentences and keep the one with the highest weighted count of phones that are rare in English.
    prompt_candidates: int = 6
    rare_phone_weights: tuple[tuple[str, float], ...] = (
        ("oy", 4.0),
        ("aw", 2.0),
        ("uh", 2.0),
        ("th", 2.0),
        ("ng", 2.0),
        ("dx", 2.0),
        ("sh", 1.5),
        ("ch", 1.5),
        ("jh", 1.0),
        ("zh", 1.0),
        ("g", 1.0),
        ("hh", 1.0),
    )


@dataclass
class UtteranceResult:
    """What writing one utterance produced: its ids, split, duration, phone counts and alignment rule counts."""

    utt_id: str  # "<speaker>_<utt>", lower case: the Kaldi utterance id
    split: str
    num_samples: int
    phone_counts: Counter[str]
    words: list[str]
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class CorpusSummary:
    """The corpus summary written to ``DOC/SUMMARY.json``: sizes, durations, phone coverage, rule counts."""

    root: str
    backends: list[str]  # the synthesizers that spoke, e.g. ["espeak", "flite"]
    speakers: dict[str, int]
    utterances: dict[str, int]
    minutes: dict[str, float]
    grammar_vocabulary: int
    corpus_vocabulary: int
    alignment: dict[str, int]
    train_phone39_counts: dict[str, int]
    min_train_phone39: tuple[str, int]


class _Worker:
    """Per-process state: eSpeak, the grammar and the symbol map are loaded once per worker."""

    state: _Worker | None = None

    def __init__(self, config: SynthCorpusConfig, out_dir: Path) -> None:
        self.config, self.out_dir = config, out_dir
        self.espeak = Espeak.get()
        self.sentences = SentenceGenerator(Lexicon.load(lexicon_path(config)))
        self.symbol_map = load_symbol_map(conf_path("espeak_timit.map"))
        self.radio_map = load_symbol_map(conf_path("radio_timit.map"))  # flite and festival
        self.piper_map = {**self.symbol_map, PAUSE: (PAUSE,)}  # Piper reads eSpeak's phonemes

    @classmethod
    def init(cls, config: SynthCorpusConfig, out_dir: Path) -> None:
        cls.state = cls(config, out_dir)

    @classmethod
    def init_process(cls, config: SynthCorpusConfig, out_dir: Path) -> None:
        """A pool worker's initializer: one torch thread per process (the calling process keeps its own)."""
        torch.set_num_threads(1)
        cls.init(config, out_dir)


def lexicon_path(config: SynthCorpusConfig) -> Path:
    """The prompt grammar a corpus config names (the package's ``conf/synth_lexicon.yaml`` by default)."""
    return Path(config.lexicon) if config.lexicon else conf_path("synth_lexicon.yaml")


def _speaker_dir(out_dir: Path, speaker: Speaker) -> Path:
    return out_dir / speaker.timit_split / f"DR{speaker.dialect_region}" / speaker.speaker_id


def _utt_name(config: SynthCorpusConfig, speaker_index: int, k: int) -> str:
    return f"SI{speaker_index * config.utts_per_speaker + k + 1}"


def _choose_prompt(worker: _Worker, speaker: Speaker, rng: np.random.Generator) -> str:
    """The candidate prompt richest in rare phones, judged from eSpeak's phonemization in this voice (in plain
    en-us for a flite speaker)."""
    voice = speaker.voice if isinstance(speaker.voice, VoiceSettings) else VoiceSettings("en-us")
    weights = dict(worker.config.rare_phone_weights)
    best, best_score = "", -1.0
    template = worker.sentences.template(rng)  # one template for all candidates: short prompts keep their share
    for _ in range(worker.config.prompt_candidates):
        text = worker.sentences.sentence(rng, template)
        labels = [
            label
            for symbol in worker.espeak.word_phonemes(text, voice)
            for label in worker.symbol_map.get(symbol.lstrip(STRESS_MARKS), ())
        ]
        score = sum(weights.get(label, 0.0) for label in labels)
        if score > best_score:
            best, best_score = text, score
    return best


def _prompt(worker: _Worker, speaker: Speaker, speaker_index: int, k: int) -> str:
    return _choose_prompt(worker, speaker, np.random.default_rng([worker.config.seed, speaker_index, k]))


def _speak(
    worker: _Worker, speaker: Speaker, speaker_index: int, k: int
) -> tuple[str, Synthesis | TimedSynthesis, Alignment]:
    """Prompt choice, synthesis and alignment of one utterance. All eSpeak work runs isolated (see espeak)."""
    voice = speaker.voice
    try:
        if isinstance(voice, VoiceSettings):
            return run_isolated(_espeak_speak, worker, speaker, speaker_index, k)
        text = run_isolated(_prompt, worker, speaker, speaker_index, k)
        tokens = tokenize(text)
        if isinstance(voice, FestivalVoice):
            speech = festival_speak(text, tokens, voice)
            synthesis, words_alone = speech.synthesis, speech.words_alone.__getitem__
        elif isinstance(voice, FliteVoice):
            synthesis = flite_synthesize(text, voice)
            words_alone = partial(word_phones, voice_name=voice.voice)
        elif isinstance(voice, PiperVoice):
            prompt = run_isolated(phonemize, text, tokens)
            seed = [worker.config.seed, speaker_index, k, 2]
            synthesis = piper_synthesize(prompt, voice, seed, f"piper ({text!r})")
            return text, synthesis, align_timed(synthesis, tokens, worker.piper_map, prompt.words_alone.__getitem__)
        else:
            raise InputError(f"no synthesizer for a {type(voice).__name__}")
        return text, synthesis, align_timed(synthesis, tokens, worker.radio_map, words_alone)
    except InputError as err:
        raise InputError(f"{speaker.speaker_id}/{_utt_name(worker.config, speaker_index, k)}: {err}") from None


def _espeak_speak(worker: _Worker, speaker: Speaker, speaker_index: int, k: int) -> tuple[str, Synthesis, Alignment]:
    voice = speaker.voice
    assert isinstance(voice, VoiceSettings)
    text = _prompt(worker, speaker, speaker_index, k)
    synthesis = worker.espeak.synthesize(text, voice)
    try:
        alignment = align(synthesis, tokenize(text), worker.symbol_map, lambda w: worker.espeak.word_phonemes(w, voice))
    except InputError as err:
        raise InputError(f"({text!r}): {err}") from None
    return text, synthesis, alignment


def render_audio(
    config: SynthCorpusConfig, synthesis: Synthesis | TimedSynthesis, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """The recording made of a synthesis: resampled to the corpus rate, silence before and after, a level
    variation and a noise floor. Returns int16 PCM and the leading silence in samples."""
    speech = torch.from_numpy(synthesis.audio.astype(np.float32) / 32768.0)
    speech = AF.resample(speech, synthesis.sample_rate, config.sample_rate).numpy()
    lead, trail = (int(rng.integers(*config.lead_silence_ms)) * config.sample_rate // 1000 for _ in range(2))
    audio = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(trail, np.float32)])
    audio *= 10 ** (rng.uniform(*config.gain_db) / 20)
    audio += rng.standard_normal(len(audio)).astype(np.float32) * 10 ** (config.noise_floor_dbfs / 20)
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16), lead


def synthesize_utterance(speaker_index: int, speaker: Speaker, k: int) -> UtteranceResult:
    """Generate, align, resample and write one utterance; returns what the summary needs."""
    worker = _Worker.state
    assert worker is not None, "call _Worker.init first"
    config = worker.config
    utt = _utt_name(config, speaker_index, k)
    text, synthesis, alignment = _speak(worker, speaker, speaker_index, k)
    rng = np.random.default_rng([config.seed, speaker_index, k, 1])  # acoustics: silence, level, noise floor
    pcm, lead = render_audio(config, synthesis, rng)
    ratio = config.sample_rate / synthesis.sample_rate

    phones = rescale_segments(alignment.phones, ratio, lead)
    phones = extend_silence(phones, len(pcm))
    words = rescale_segments(alignment.words, ratio, lead)

    folder = _speaker_dir(worker.out_dir, speaker)
    utt_id = f"{speaker.speaker_id}_{utt}".lower()
    header = {"database_id": "gatescope-synth", "utterance_id": utt_id, "speaker_id": speaker.speaker_id}
    write_bytes_atomic(folder / f"{utt}.WAV", sphere_bytes(pcm, config.sample_rate, header))
    write_text_atomic(folder / f"{utt}.PHN", segment_lines(phones))
    write_text_atomic(folder / f"{utt}.WRD", segment_lines(words))
    write_text_atomic(folder / f"{utt}.TXT", f"0 {len(pcm)} {text}\n")  # written last: marks the utterance done
    return UtteranceResult(
        utt_id,
        speaker.split,
        len(pcm),
        Counter(p.label for p in phones),
        [w.label for w in words],
        {name: alignment.stats[name] for name in STAT_NAMES},
    )


def _read_done(speaker: Speaker, folder: Path, utt: str, stats: dict[str, int]) -> UtteranceResult:
    phn = (folder / f"{utt}.PHN").read_text().split("\n")
    words = [line.split()[2] for line in (folder / f"{utt}.WRD").read_text().splitlines()]
    num_samples = int(read_header(folder / f"{utt}.WAV")["sample_count"])
    return UtteranceResult(
        f"{speaker.speaker_id}_{utt}".lower(),
        speaker.split,
        num_samples,
        Counter(line.split()[2] for line in phn if line),
        words,
        stats,
    )


def _task(args: tuple[int, Speaker, int]) -> UtteranceResult:
    return synthesize_utterance(*args)


def _read_stats(path: Path) -> dict[str, dict[str, int]]:
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    # A file from before a rule existed has fewer columns: the rule did not fire there.
    return {f[0]: dict(zip(STAT_NAMES, map(int, f[1:]), strict=False)) for f in (ln.split() for ln in lines[1:])}


def _write_docs(out_dir: Path, speakers: list[Speaker], results: list[UtteranceResult]) -> None:
    doc = out_dir / "DOC"
    rows = ["id sex split dialect_region voice"]
    rows += [f"{s.speaker_id} {s.sex} {s.split} DR{s.dialect_region} {s.voice.describe()}" for s in speakers]
    write_text_atomic(doc / "SPEAKERS.TXT", "\n".join(rows) + "\n")
    for split, name in (("dev", "dev_spk.list"), ("test", "core_test_spk.list")):
        write_text_atomic(doc / name, "".join(f"{s.speaker_id.lower()}\n" for s in speakers if s.split == split))
    stats = ["utt " + " ".join(STAT_NAMES)]
    stats += [
        f"{r.utt_id} " + " ".join(str(r.stats.get(n, 0)) for n in STAT_NAMES)
        for r in sorted(results, key=lambda r: r.utt_id)
    ]
    write_text_atomic(doc / STATS_FILE, "\n".join(stats) + "\n")


def summarize(
    out_dir: Path, speakers: list[Speaker], results: list[UtteranceResult], config: SynthCorpusConfig
) -> CorpusSummary:
    """The summary of a whole corpus from its utterance results (train phone counts on the 39-phone set)."""
    phone_map = PhoneMap.load()
    train39: Counter[str] = Counter()
    for r in results:
        if r.split == "train":
            for label, count in r.phone_counts.items():
                if label in phone_map.to39:
                    train39[phone_map.to39[label]] += count
    counts39 = {p: train39.get(p, 0) for p in phone_map.labels39}
    rarest = min(counts39.items(), key=lambda kv: kv[1])
    splits = ("train", "dev", "test")
    return CorpusSummary(
        root=str(out_dir),
        backends=sorted({s.backend for s in speakers}),
        speakers={s: sum(sp.split == s for sp in speakers) for s in splits},
        utterances={s: sum(r.split == s for r in results) for s in splits},
        minutes={
            s: round(sum(r.num_samples for r in results if r.split == s) / config.sample_rate / 60, 2) for s in splits
        },
        grammar_vocabulary=len(Lexicon.load(lexicon_path(config)).vocabulary()),
        corpus_vocabulary=len({w for r in results for w in r.words}),
        alignment={n: sum(r.stats.get(n, 0) for r in results) for n in STAT_NAMES},
        train_phone39_counts=counts39,
        min_train_phone39=rarest,
    )


def generate_corpus(out_dir: Path, config: SynthCorpusConfig, jobs: int = 1, progress: bool = True) -> CorpusSummary:
    """Write (or complete) the corpus under ``out_dir`` and return its summary (also in DOC/SUMMARY.json)."""
    speakers = make_speakers(
        config.speakers, config.test_speakers, config.seed, conf_path("synth_voices.yaml"), config.backends
    )
    require_backends(speakers)
    done_stats = _read_stats(out_dir / "DOC" / STATS_FILE)
    results: list[UtteranceResult] = []
    todo: list[tuple[int, Speaker, int]] = []
    for i, speaker in enumerate(speakers):
        for k in range(config.utts_per_speaker):
            utt = _utt_name(config, i, k)
            folder = _speaker_dir(out_dir, speaker)
            utt_id = f"{speaker.speaker_id}_{utt}".lower()
            if (folder / f"{utt}.TXT").exists() and utt_id in done_stats:
                results.append(_read_done(speaker, folder, utt, done_stats[utt_id]))
            else:
                todo.append((i, speaker, k))
    bar = tqdm(total=len(todo), desc="synthesizing", unit="utt", disable=not progress or not todo)
    for result in _run(todo, config, out_dir, jobs):
        results.append(result)
        bar.update()
    bar.close()
    _write_docs(out_dir, speakers, results)
    summary = summarize(out_dir, speakers, results, config)
    body = {"config": asdict(config), **asdict(summary)}
    body.pop("root")
    write_text_atomic(out_dir / "DOC" / "SUMMARY.json", json.dumps(body, indent=2, sort_keys=True) + "\n")
    return summary


def _run(
    todo: list[tuple[int, Speaker, int]], config: SynthCorpusConfig, out_dir: Path, jobs: int
) -> Iterator[UtteranceResult]:
    if jobs <= 1 or len(todo) <= 1:
        _Worker.init(config, out_dir)
        yield from map(_task, todo)
        return
    # Fork-free start: eSpeak's global state must be created in each worker, not inherited.
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs, initializer=_Worker.init_process, initargs=(config, out_dir)) as pool:
        yield from pool.imap_unordered(_task, todo, chunksize=4)
