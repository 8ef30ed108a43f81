"""Streaming speed and latency on one CPU core: gatescope's Recognizer (the demo LSTM and GRU, and an untrained
4 x 320 LSTM for speed) beside PocketSphinx (its US-English model) on the same WAVs, in one run.

Each utterance is streamed in chunks (100 ms by default) as fast as possible, followed by 1 s of silence so that
endpoints can fire. One thread (PyTorch's and numpy's BLAS). Each gatescope model runs twice: its recurrent layers
in numpy (the Recognizer's default for standard LSTM and GRU layers) and in PyTorch (``numpy_stack=False``).
Figures:

* RTF: processing time / audio time; offline RTF: the same model on the whole utterance at once (features, one
  forward), and the ratio of the two.
* added latency: processing time per chunk (mean and 95th percentile): how long after a chunk arrives its events
  are out. The aims: RTF <= 0.01, streaming within 1.5x of offline, added latency <= one chunk.
* first partial: stream time at which the first non-silence partial is out (end of its chunk + the chunk's
  processing time) minus the speech start (first non-silence phone of phones.ctm).
* final: the same for the final event, minus the speech end (it includes the endpoint wait).

    python bench/stream_speed.py [--data recipes/synth/data/test] [--models recipes/synth/exp/lstm,...]
                                 [--utterances 20] [--chunk-ms 100] [--rounds 3]

Each figure is the system's fastest of ``--rounds`` passes, the passes interleaving all systems.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core: numpy's BLAS too (read when numpy loads)

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from common import write_result

from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_ctm, read_table
from gatescope.asr.features.cmvn import OnlineCMVN, pooled_cmvn_stats
from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.asr.models.acoustic import AcousticModel, ModelConfig
from gatescope.asr.models.checkpoint import load_model
from gatescope.asr.streaming.recognizer import Recognizer
from gatescope.config import load_config

SILENCE = frozenset({"h#", "pau", "epi"})
ROOT = Path(__file__).resolve().parents[1]


def speech_span(spans: list[tuple[int, int, str]], rate: int) -> tuple[float, float]:
    voiced = [(s, e) for s, e, p in spans if p not in SILENCE]
    return voiced[0][0] / rate, voiced[-1][1] / rate


def stream_gatescope(recognizer: Recognizer, audio: np.ndarray, step: int, rate: int) -> dict[str, object]:
    recognizer.reset()
    first = final = None
    chunk_times = []
    for offset in range(0, audio.size, step):
        start = time.perf_counter()
        events = recognizer.accept(audio[offset : offset + step])
        spent = time.perf_counter() - start
        chunk_times.append(spent)
        out_at = (offset + step) / rate + spent
        for event in events:
            if first is None and event.kind == "partial" and event.text.replace("sil", "").strip():
                first = out_at
            if final is None and event.kind == "final":
                final = out_at
    start = time.perf_counter()
    recognizer.finish()
    chunk_times.append(time.perf_counter() - start)
    return {"chunk_times": chunk_times, "first": first, "final": final}


def offline_seconds(recognizer: Recognizer, audio: np.ndarray) -> float:
    """The same model's offline cost on the same audio: features of the whole signal, normalisation as in
    streaming, one forward over all frames (the limit a streaming front end can approach)."""
    start = time.perf_counter()
    feats = compute_features(audio, recognizer.features_config).numpy()
    normalised = OnlineCMVN(recognizer.cmvn_mode, recognizer.cmvn_stats, recognizer.norm_vars).apply(feats)
    with torch.inference_mode():
        recognizer.model(torch.from_numpy(normalised).unsqueeze(0))
    return time.perf_counter() - start


def stream_pocketsphinx(decoder: object, audio: np.ndarray, step: int, rate: int) -> dict[str, object]:
    """PocketSphinx as its live demo runs it: its voice-activity Endpointer cuts utterances; partials come from
    the decoder's current hypothesis, a final when the endpointer leaves speech."""
    from pocketsphinx import Endpointer

    endpointer = Endpointer(sample_rate=rate)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()
    first = final = None
    chunk_times = []
    pending = b""
    in_utterance = False
    for offset in range(0, len(pcm), 2 * step):
        start = time.perf_counter()
        pending += pcm[offset : offset + 2 * step]
        ended = False
        while len(pending) >= endpointer.frame_bytes:
            frame, pending = pending[: endpointer.frame_bytes], pending[endpointer.frame_bytes :]
            speech = endpointer.process(frame)
            if speech is None:
                continue
            if not in_utterance:
                decoder.start_utt()  # type: ignore[attr-defined]
                in_utterance = True
            decoder.process_raw(speech, False, False)  # type: ignore[attr-defined]
            if not endpointer.in_speech:
                decoder.end_utt()  # type: ignore[attr-defined]
                in_utterance, ended = False, True
        hyp = decoder.hyp() if in_utterance or ended else None  # type: ignore[attr-defined]
        spent = time.perf_counter() - start
        chunk_times.append(spent)
        out_at = (offset // 2 + step) / rate + spent
        if first is None and hyp is not None and hyp.hypstr.strip():
            first = out_at
        if final is None and ended:
            final = out_at
    if in_utterance:
        decoder.end_utt()  # type: ignore[attr-defined]
    return {"chunk_times": chunk_times, "first": first, "final": final}


def summarise(runs: list[dict], spans: list[tuple[float, float]], audio_s: float, chunk_s: float) -> dict[str, object]:
    times = np.concatenate([r["chunk_times"] for r in runs])
    firsts = [r["first"] - s for r, (s, _) in zip(runs, spans, strict=True) if r["first"] is not None]
    finals = [r["final"] - e for r, (_, e) in zip(runs, spans, strict=True) if r["final"] is not None]
    return {
        "rtf": round(float(times.sum() / audio_s), 4),
        "added_latency_ms_mean": round(1000 * float(times.mean()), 2),
        "added_latency_ms_p95": round(1000 * float(np.percentile(times, 95)), 2),
        "added_latency_within_one_chunk": bool(np.percentile(times, 95) <= chunk_s),
        "first_partial_after_speech_start_ms": round(1000 * float(np.median(firsts)), 1) if firsts else None,
        "final_after_speech_end_ms": round(1000 * float(np.median(finals)), 1) if finals else None,
        "utterances_with_final": len(finals),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "recipes/synth/data/test")
    parser.add_argument("--models", default="recipes/synth/exp/lstm,recipes/synth/exp/gru")
    parser.add_argument("--utterances", type=int, default=20)
    parser.add_argument("--chunk-ms", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=3, help="passes over all systems; each keeps its fastest")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not (args.data / "feat_conf.yaml").is_file():
        raise SystemExit(f"{args.data}: needs a data dir with features (run `make demo` or pass --data)")
    features = load_config(FeatureConfig, args.data / "feat_conf.yaml")
    rate = features.sample_rate
    train_stats = pooled_cmvn_stats(args.data / "cmvn.scp")
    wav_scp = read_table(args.data / "wav.scp")
    ctm = read_ctm(args.data / "phones.ctm", rate)
    utts = sorted(wav_scp)[: args.utterances]
    tail = np.zeros(rate, dtype=np.float32)
    audios = [np.concatenate([read_audio(wav_scp[u], rate)[0], tail]) for u in utts]
    spans = [speech_span(ctm[u], rate) for u in utts]
    audio_s = sum(a.size for a in audios) / rate
    step = round(rate * args.chunk_ms / 1000)
    chunk_s = args.chunk_ms / 1000

    systems: dict[str, Recognizer | object] = {}
    models = {}
    for path in (ROOT / p if not Path(p).is_absolute() else Path(p) for p in args.models.split(",") if p):
        if path.is_dir():
            models[f"gatescope {path.name}"] = load_model(path)
    big = AcousticModel(features.dim, 49, ModelConfig(cell="lstm", num_layers=4, hidden_size=320, frame_stack=3))
    big.tokens, big.train_config = ["<blk>", *[f"p{i}" for i in range(48)]], {"norm_vars": True}
    models["gatescope lstm 4x320 (untrained, speed only)"] = big.eval()
    for name, model in models.items():  # the recurrent layers in numpy (the default) and in PyTorch, side by side
        systems[name] = Recognizer(model, features=features, cmvn_stats=train_stats)
        systems[f"{name}, PyTorch layers"] = Recognizer(model, features=features, cmvn_stats=train_stats,
                                                        numpy_stack=False)  # fmt: skip
    try:
        from pocketsphinx import Decoder

        systems["pocketsphinx (en-us)"] = Decoder(samprate=rate, loglevel="FATAL")
    except ImportError:
        print("pocketsphinx not installed: skipped")

    # Rounds interleave the systems (every system once per round), and each keeps its fastest round, streaming and
    # offline alike: this machine's speed drifts by a third within minutes, and a system measured in a slow minute
    # would otherwise look slower than one measured in a fast one.
    results: dict[str, dict] = {}
    offline: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, system in systems.items():
            runner = stream_gatescope if isinstance(system, Recognizer) else stream_pocketsphinx
            summary = summarise([runner(system, audio, step, rate) for audio in audios], spans, audio_s, chunk_s)
            if name not in results or summary["rtf"] < results[name]["rtf"]:
                results[name] = summary
            if isinstance(system, Recognizer):
                seconds = sum(offline_seconds(system, audio) for audio in audios)
                offline[name] = min(offline.get(name, seconds), seconds)
    for name, result in results.items():
        if name in offline:
            result["offline_rtf"] = round(offline[name] / audio_s, 4)
            result["streaming_over_offline"] = round(float(result["rtf"]) * audio_s / offline[name], 2)
        if "untrained" in name:  # random outputs: no meaningful partials or endpoints
            for key in ("first_partial_after_speech_start_ms", "final_after_speech_end_ms", "utterances_with_final"):
                result.pop(key)
        print(name, result)
    write_result(
        "stream_speed",
        {
            "data": str(args.data),
            "utterances": len(utts),
            "audio_seconds": round(audio_s, 1),
            "chunk_ms": args.chunk_ms,
            "rounds": args.rounds,
            "endpoint_ms": 600.0,
            "targets": {"rtf": 0.01, "streaming_over_offline": 1.5, "added_latency_ms": args.chunk_ms},
            "systems": results,
        },
    )


if __name__ == "__main__":
    main()
