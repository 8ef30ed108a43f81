"""Decoding and scoring a data dir (the search itself is in :mod:`gatescope.asr.inference`).

``decode_data_dir`` writes ``hyp.txt``/``ref.txt`` (scored tokens), ``per_utt.txt`` (sclite-like counts per
utterance) and ``result.json`` into the output folder, and returns the error rate (PER on 39 phones for phone
tasks, WER for word tasks).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from gatescope.asr.data import CTCDataset
from gatescope.asr.errors import InputError
from gatescope.asr.fileio import write_text_atomic
from gatescope.asr.inference import transcribe
from gatescope.asr.model import load_model
from gatescope.asr.phones import PhoneMap
from gatescope.asr.scoring import ErrorCounts, count_errors, fold_for_scoring
from gatescope.asr.tokens import TokenTable


def decode_data_dir(
    model_path: Path, data_dir: Path, out_dir: Path | None = None, beam: int = 0, batch_size: int = 16
) -> tuple[float, Path]:
    """Decode every utterance of ``data_dir``; returns (error rate in %, output folder)."""
    model = load_model(model_path)
    hp = model.train_config
    tokens = TokenTable(tuple(model.tokens))
    dataset = CTCDataset(
        data_dir, tokens, cmvn=hp["cmvn"], norm_vars=hp["norm_vars"], skip_bad=False, frame_stack=model.frame_stack
    )
    if dataset.input_dim != model.input_dim:
        raise InputError(
            f"{data_dir / 'feats.scp'}: features have {dataset.input_dim} dims, the model expects {model.input_dim}"
        )
    mode = f"beam{beam}" if beam else "greedy"
    out_dir = (
        out_dir
        or Path(model_path if Path(model_path).is_dir() else Path(model_path).parent) / f"decode_{data_dir.name}_{mode}"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    phone_map = PhoneMap.load() if hp["target"] == "phones" else None
    total = ErrorCounts()
    rows, hyps, refs = [], {}, {}
    examples = [dataset[i] for i in range(len(dataset))]
    results = transcribe(model, [e.feats for e in examples], beam=beam, batch_size=batch_size)
    for example, found in zip(examples, results, strict=True):
        ref = fold_for_scoring(tokens.decode(example.targets.tolist()), hp["target"], phone_map)
        hyp = fold_for_scoring(tokens.decode(found.ids), hp["target"], phone_map)
        counts = count_errors(ref, hyp)
        total.add(counts)
        refs[example.utt], hyps[example.utt] = " ".join(ref), " ".join(hyp)
        rows.append(
            f"{example.utt} {counts.ref_words} {counts.substitutions} {counts.deletions} "
            f"{counts.insertions} {counts.rate:.2f}"
        )
    metric = "PER" if hp["target"] == "phones" else "WER"
    write_text_atomic(out_dir / "hyp.txt", "".join(f"{u} {hyps[u]}\n" for u in sorted(hyps)))
    write_text_atomic(out_dir / "ref.txt", "".join(f"{u} {refs[u]}\n" for u in sorted(refs)))
    header = "utt ref_tokens sub del ins err%\n"
    footer = f"TOTAL {total.ref_words} {total.substitutions} {total.deletions} {total.insertions} {total.rate:.2f}\n"
    write_text_atomic(out_dir / "per_utt.txt", header + "".join(r + "\n" for r in sorted(rows)) + footer)
    result = {
        "metric": metric,
        "error_rate": round(total.rate, 2),
        "decoding": mode,
        "data": str(data_dir),
        "model": str(model_path),
        "utterances": len(rows),
        **asdict(total),
    }
    write_text_atomic(out_dir / "result.json", json.dumps(result, indent=2) + "\n")
    return total.rate, out_dir
