"""``gatescope robustness``: every model decoded under every noise condition, on identical perturbed audio.

For each condition (clean; each additive noise at each SNR; reverberation; optionally a noise burst in each
utterance) the data dir's audio is perturbed once, with a per-utterance seed, and every model (and the PocketSphinx
anchor: its task grammar for word tasks, its phone loop for phone tasks when asked) decodes exactly that audio.
Features follow the data dir's ``feat_conf.yaml``; CMVN statistics are recomputed per speaker on the perturbed
features, as a Kaldi recipe would on a noisy test set.

Bursts (Tang et al. 2017): a noise segment replaces the speech at the same relative place in every utterance.
Each utterance's hypothesis is aligned to its reference as a whole, every error is charged to a reference phone,
and the phones are placed in time by their aligned midpoints; the error rate in windows after the burst's end is
compared with the same windows of the clean decode: the excess error per window is how long the model stays
disturbed.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import logging
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from gatescope.analysis.reports.html import HtmlReport, save_figure, versions
from gatescope.analysis.robustness.conditions import Condition, RobustnessConfig, conditions
from gatescope.asr.data.datadir import read_ctm, read_table, require_files
from gatescope.asr.data.perturb import Burst, noise_bank_for, perturb_waveform, read_waveforms, utterance_seed
from gatescope.asr.decoding.anchor import PocketsphinxAnchor, PocketsphinxPhoneLoop, anchor_for
from gatescope.asr.decoding.grammar import require_word_model, word_count_grammar
from gatescope.asr.decoding.scoring import (
    SCORING_DROPS,
    ErrorCounts,
    fold_for_scoring,
    reference_errors,
    score_utterances,
)
from gatescope.asr.decoding.search import Hypothesis, normalize, transcribe
from gatescope.asr.features.cmvn import cmvn_stats
from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.asr.models.acoustic import AcousticModel
from gatescope.asr.models.checkpoint import experiment_names, load_model
from gatescope.asr.phones import PhoneMap
from gatescope.asr.tokens import TokenTable
from gatescope.config import load_config
from gatescope.errors import InputError
from gatescope.files import path_from, refuse_overlap, write_text_atomic
from gatescope.noise import NoiseSpec

log = logging.getLogger(__name__)


@dataclass
class _Model:
    name: str
    path: Path
    model: AcousticModel
    tokens: TokenTable
    target: str
    cmvn: str  # the model's cmvn_mode
    norm_vars: bool

    def describe(self, out_dir: Path) -> dict[str, Any]:
        """The model's settings for the report; its path relative to the report's folder."""
        hp = self.model.train_config
        return {
            "path": path_from(out_dir, self.path),
            "cell": hp["cell"],
            "layers": hp["num_layers"],
            "hidden_size": hp["hidden_size"],
            "bidirectional": hp["bidirectional"],
            "parameters": sum(p.numel() for p in self.model.parameters()),
        }


@dataclass
class _Data:
    """The evaluation data: clean audio, speakers, scored references and (phone tasks) aligned phones."""

    waves: dict[str, np.ndarray]
    utt2spk: dict[str, str]
    refs: dict[str, list[str]]
    aligned: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # utt -> [(mid sample, phone39)]


def _load_models(paths: list[Path], feature_dim: int) -> list[_Model]:
    models = []
    for path, name in zip(paths, experiment_names(paths), strict=True):
        model = load_model(path)
        if model.input_dim != feature_dim:
            raise InputError(f"{path}: model expects {model.input_dim}-dim features, the data dir has {feature_dim}")
        hp = model.train_config
        models.append(
            _Model(
                name,
                path,
                model,
                TokenTable(tuple(model.tokens), hp["target"]),
                hp["target"],
                model.cmvn_mode,
                hp["norm_vars"],
            )
        )
    if len({m.target for m in models}) != 1:
        raise InputError("all models must have the same target (phones or words) to share one table")
    return models


def _load_data(data_dir: Path, target: str, sample_rate: int) -> _Data:
    phone_map = PhoneMap.load() if target == "phones" else None
    text = read_table(data_dir / "text", allow_empty=True)
    data = _Data(
        read_waveforms(data_dir, sample_rate),
        read_table(data_dir / "utt2spk"),
        {utt: fold_for_scoring(words.split(), target, phone_map) for utt, words in text.items()},
    )
    if phone_map is not None and (data_dir / "phones.ctm").is_file():
        for utt, spans in read_ctm(data_dir / "phones.ctm", sample_rate).items():
            folded = [(start, end, phone_map.to39[p]) for start, end, p in spans if p in phone_map.to39]
            data.aligned[utt] = [((s + e) // 2, p) for s, e, p in folded if p not in SCORING_DROPS]
    return data


def _perturb(
    condition: Condition, data: _Data, bank: Any, config: RobustnessConfig
) -> tuple[dict[str, np.ndarray], dict[str, tuple[int, int]]]:
    """The condition's audio for every utterance, and the burst spans (burst conditions only)."""
    if condition.kind == "clean":
        return data.waves, {}
    spec = NoiseSpec.parse(condition.noise)
    burst = Burst(config.burst_at, config.burst_dur_s, relative=True) if condition.kind == "burst" else None
    waves, spans = {}, {}
    for utt, wave in data.waves.items():
        seed = utterance_seed(config.seed, condition.name, utt)
        waves[utt], span = perturb_waveform(
            bank, wave, spec, condition.snr_db, seed, data.utt2spk[utt], burst, config.active_only, utt
        )
        if span is not None:
            spans[utt] = span
    return waves, spans


def _features(waves: dict[str, np.ndarray], utt2spk: dict[str, str], config: FeatureConfig) -> tuple[dict, dict]:
    """Features per utterance and CMVN statistics per speaker, recomputed on this audio."""
    feats = {utt: compute_features(wave, config).numpy() for utt, wave in waves.items()}
    by_speaker: dict[str, list[np.ndarray]] = defaultdict(list)
    for utt, matrix in feats.items():
        by_speaker[utt2spk[utt]].append(matrix)
    return feats, {spk: cmvn_stats(mats) for spk, mats in by_speaker.items()}


def _decode(
    model: _Model, feats: dict[str, np.ndarray], stats: dict[str, np.ndarray], data: _Data, config: RobustnessConfig
) -> dict[str, Hypothesis]:
    utts = sorted(feats)
    inputs = [normalize(feats[u], model.cmvn, stats[data.utt2spk[u]], model.norm_vars) for u in utts]
    grammar = word_count_grammar(config.max_words)
    with torch.inference_mode():
        return dict(zip(utts, transcribe(model.model, inputs, beam=config.beam, grammar=grammar), strict=True))


def _words(model: _Model, hyp: Hypothesis, phone_map: PhoneMap | None) -> list[str]:
    return fold_for_scoring(model.tokens.decode(hyp.ids), model.target, phone_map)


def _window_counts(
    words: dict[str, list[str]],
    aligned: dict[str, list[tuple[int, str]]],
    spans: dict[str, tuple[int, int]],
    bins_ms: tuple[int, ...],
    sample_rate: int,
) -> list[ErrorCounts]:
    """Errors located in each window ``[end + a, end + b)`` after each utterance's burst end: the whole
    utterance is aligned, and each error is charged to a reference phone (:func:`reference_errors`), which lies in
    the window by its aligned midpoint. Counts: ``ref_words`` phones in the window, ``substitutions`` their errors."""
    out = [ErrorCounts() for _ in bins_ms[:-1]]
    for utt, (_, end) in spans.items():
        times = [t for t, _ in aligned.get(utt, [])]
        charged = reference_errors([p for _, p in aligned.get(utt, [])], words.get(utt, []))
        for i, (a, b) in enumerate(itertools.pairwise(bins_ms)):
            lo, hi = end + a * sample_rate // 1000, end + b * sample_rate // 1000
            inside = [k for k, t in enumerate(times) if lo <= t < hi]
            out[i].add(ErrorCounts(len(inside), sum(charged[k] for k in inside)))
    return out


@dataclass
class _Run:
    """What every condition of one robustness run shares (inherited by forked workers, never pickled)."""

    models: list[_Model]
    data: _Data
    bank: Any
    config: RobustnessConfig
    feature_config: FeatureConfig
    phone_map: PhoneMap | None
    anchor: PocketsphinxAnchor | PocketsphinxPhoneLoop | None
    out_dir: Path


_RUN: _Run | None = None  # set before the worker processes fork


def _condition_row(condition: Condition) -> tuple[dict[str, Any], dict[str, dict[str, list[str]]], Any]:
    """Decode every model (and the anchor) under one condition; writes its hypotheses. Returns the results row
    (with its cost in seconds), each model's words and the burst spans."""
    run = _RUN
    assert run is not None, "set _RUN first"
    started = time.perf_counter()
    if run.config.jobs > 1:  # a forked worker: one thread each, so that the workers do not oversubscribe the cores
        torch.set_num_threads(1)
    waves, spans = _perturb(condition, run.data, run.bank, run.config)
    feats, stats = _features(waves, run.data.utt2spk, run.feature_config)
    row: dict[str, Any] = {"condition": condition.name, **asdict(condition), "results": {}}
    words_by_model = {}
    for model in run.models:
        hyps = _decode(model, feats, stats, run.data, run.config)
        words = {utt: _words(model, hyp, run.phone_map) for utt, hyp in hyps.items()}
        counts = score_utterances(run.data.refs, words)
        row["results"][model.name] = {"error_rate": round(counts.rate, 2), **asdict(counts)}
        write_text_atomic(
            run.out_dir / "hyp" / model.name / f"{condition.name}.txt",
            "".join(f"{u} {' '.join(words[u])}\n" for u in sorted(words)),
        )
        words_by_model[model.name] = words
    if run.anchor is not None:
        row["results"][run.anchor.name] = _anchor_result(
            run.anchor, waves, run.data.refs, run.feature_config.sample_rate
        )
    row["seconds"] = round(time.perf_counter() - started, 2)
    return row, words_by_model, spans


def _rows(todo: list[Condition], jobs: int, progress: bool) -> Iterator[tuple[dict, dict, Any]]:
    """Every condition's row in order, ``jobs`` conditions at a time in forked processes."""
    bar = tqdm(total=len(todo), desc="robustness", unit="condition", disable=not progress)
    if jobs <= 1 or len(todo) <= 1:
        for condition in todo:
            yield _condition_row(condition)
            bar.update()
    else:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(todo))) as pool:
            for result in pool.imap(_condition_row, todo):
                yield result
                bar.update()
    bar.close()


def run_robustness(
    model_paths: list[Path],
    data_dir: Path,
    out_dir: Path,
    config: RobustnessConfig | None = None,
    babble_dir: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Decode every model under every condition and write ``results.json``, ``results.csv``, ``hyp/``, plots
    and ``report.html`` into ``out_dir``. Conditions run ``config.jobs`` at a time; results do not depend on it.
    Returns the results dict."""
    global _RUN
    config = config or RobustnessConfig()
    started = time.perf_counter()
    refuse_overlap(
        out_dir, {"--data": data_dir, "--babble-data": babble_dir, **{f"--model {m}": m for m in model_paths}}
    )
    require_files(data_dir, ("wav.scp", "text", "utt2spk", "feat_conf.yaml"))
    feature_config = load_config(FeatureConfig, data_dir / "feat_conf.yaml")
    models = _load_models(model_paths, feature_config.dim)
    target = models[0].target
    if config.max_words:
        require_word_model(target, models[0].path, config.beam)
    data = _load_data(data_dir, target, feature_config.sample_rate)
    bank = noise_bank_for(babble_dir or data_dir, feature_config.sample_rate, None if babble_dir else data.waves)
    phone_map = PhoneMap.load() if target == "phones" else None
    anchor = _anchor(config.anchor, target, data.refs)
    todo = conditions(config)
    if config.bursts and not data.aligned:
        raise InputError(f"{data_dir / 'phones.ctm'}: burst windows need phone alignments (a phone task)")
    metric = "PER" if target == "phones" else "WER"
    _RUN = _Run(models, data, bank, config, feature_config, phone_map, anchor, out_dir)
    results: list[dict[str, Any]] = []
    clean_words: dict[str, dict[str, list[str]]] = {}
    bursts: dict[str, Any] = {}
    try:
        for condition, (row, words_by_model, spans) in zip(todo, _rows(todo, config.jobs, progress), strict=True):
            results.append(row)
            log.info("%s: %.1f s", condition.name, row["seconds"])
            if condition.kind == "clean":
                clean_words = words_by_model
            if condition.kind == "burst":
                window = functools.partial(
                    _window_counts,
                    aligned=data.aligned,
                    spans=spans,
                    bins_ms=config.burst_bins_ms,
                    sample_rate=feature_config.sample_rate,
                )
                for name, words in words_by_model.items():
                    noisy, clean = window(words), window(clean_words[name])
                    label = NoiseSpec.parse(condition.noise).label  # a recorded noise by its name, never a path
                    bursts.setdefault(label, {"bins_ms": list(config.burst_bins_ms)})[name] = {
                        "burst": [round(c.rate, 2) for c in noisy],
                        "clean": [round(c.rate, 2) for c in clean],
                        "excess": [round(n.rate - c.rate, 2) for n, c in zip(noisy, clean, strict=True)],
                        "ref_tokens": [c.ref_words for c in clean],
                    }
    finally:
        _RUN = None
    summary = {
        "data": path_from(out_dir, data_dir),  # relative to the report: no path of this machine in it
        "utterances": len(data.waves),
        "audio_minutes": round(sum(len(w) for w in data.waves.values()) / feature_config.sample_rate / 60, 2),
        "metric": metric,
        "decoding": _decoding(config),
        "config": asdict(config),
        "features": asdict(feature_config),
        "models": {m.name: m.describe(out_dir) for m in models},
        "anchor": anchor.name if anchor else None,
        "conditions": results,
        "bursts": bursts,
        "versions": versions(["pocketsphinx"] if anchor else []),
        "seconds": round(time.perf_counter() - started, 1),
    }
    _write_outputs(summary, out_dir)
    return summary


def _decoding(config: RobustnessConfig) -> str:
    if config.max_words:
        return "one-word grammar" if config.max_words == 1 else f"grammar of 1 to {config.max_words} words"
    return f"beam{config.beam}" if config.beam else "greedy"


def _anchor_result(
    anchor: PocketsphinxAnchor | PocketsphinxPhoneLoop,
    waves: dict[str, np.ndarray],
    refs: dict[str, list[str]],
    sample_rate: int,
) -> dict[str, Any]:
    """The anchor's error rate on the condition's audio (words compared in lower case, as PocketSphinx writes
    them; phones already in the references' 39)."""
    hyps = {utt: [w.lower() for w in anchor.transcribe(wave, sample_rate)] for utt, wave in waves.items()}
    counts = score_utterances({u: [w.lower() for w in ws] for u, ws in refs.items()}, hyps)
    return {"error_rate": round(counts.rate, 2), "anchor": True, **asdict(counts)}


def _anchor(choice: str, target: str, refs: dict[str, list[str]]) -> PocketsphinxAnchor | PocketsphinxPhoneLoop | None:
    """PocketSphinx: for word tasks (words or characters, ``auto`` or ``pocketsphinx``) restricted to the
    references' words; for phone tasks (only when asked: ``pocketsphinx``) its phone loop."""
    if choice not in ("auto", "none", "pocketsphinx"):
        raise InputError(f"--anchor must be auto, none or pocketsphinx, got {choice!r}")
    word_task = target in ("words", "chars")
    if choice == "none" or (choice == "auto" and not word_task):
        return None
    return anchor_for(target, list(refs.values()))


def _write_outputs(summary: dict[str, Any], out_dir: Path) -> None:
    from gatescope.analysis.reports import robustness_report as robustness_plots

    write_text_atomic(out_dir / "results.json", json.dumps(summary, indent=1) + "\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["model", "condition", "kind", "noise", "snr_db", "metric", "error_rate", "ref", "sub", "del", "ins"]
    )
    for row in summary["conditions"]:
        for name, r in row["results"].items():
            writer.writerow(
                [name, row["condition"], row["kind"], row["noise"] and NoiseSpec.parse(row["noise"]).label,
                 row["snr_db"], summary["metric"], r["error_rate"],
                 r["ref_words"], r["substitutions"], r["deletions"], r["insertions"]]
            )  # fmt: skip
    write_text_atomic(out_dir / "results.csv", buffer.getvalue())
    report = HtmlReport("gatescope robustness report")
    robustness_plots.fill_report(report, summary, lambda fig, name: save_figure(fig, out_dir / f"{name}.png"))
    report.write(out_dir / "report.html")
