"""CTC decoding (greedy, and prefix beam search through torchaudio's ``ctc_decoder``) and scoring of a data dir.

``decode_data_dir`` writes ``hyp.txt``/``ref.txt`` (scored tokens), ``per_utt.txt`` (sclite-like counts per
utterance) and ``result.json`` into the output folder, and returns the error rate (PER on 39 phones for phone
tasks, WER for word tasks).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
from torch import Tensor

from gatescope.asr.data import CTCDataset, collate
from gatescope.asr.errors import InputError
from gatescope.asr.fileio import write_text_atomic
from gatescope.asr.model import load_model
from gatescope.asr.phones import PhoneMap
from gatescope.asr.scoring import ErrorCounts, count_errors, fold_for_scoring
from gatescope.asr.tokens import TokenTable


def greedy_decode(log_probs: Tensor, lengths: Tensor) -> list[list[int]]:
    """Best path: argmax per frame, repeats merged, blanks (0) removed. ``log_probs``: (batch, time, tokens)."""
    best = log_probs.argmax(dim=-1).cpu()
    out = []
    for row, length in zip(best, lengths.tolist(), strict=True):
        path = row[:length].tolist()
        out.append([t for i, t in enumerate(path) if t != 0 and (i == 0 or path[i - 1] != t)])
    return out


def beam_decode(log_probs: Tensor, lengths: Tensor, tokens: list[str], beam: int) -> list[list[int]]:
    """CTC prefix beam search without a lexicon or LM (flashlight-text through torchaudio)."""
    from torchaudio.models.decoder import ctc_decoder

    decoder = ctc_decoder(
        lexicon=None,
        tokens=tokens,
        beam_size=beam,
        blank_token=tokens[0],
        sil_token=tokens[0],
        unk_word=tokens[0],
        log_add=True,
    )
    hypotheses = decoder(log_probs.float().cpu().contiguous(), lengths.cpu().int())
    return [h[0].tokens.tolist() if h else [] for h in hypotheses]


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
    with torch.no_grad():
        for start in range(0, len(dataset), batch_size):
            batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
            log_probs, _ = model(batch.feats, batch.lengths)
            out_lengths = model.output_lengths(batch.lengths)
            ids = (
                beam_decode(log_probs, out_lengths, list(tokens.symbols), beam)
                if beam
                else greedy_decode(log_probs, out_lengths)
            )
            for i, (utt, ref_ids) in enumerate(zip(batch.utts, batch.target_lists(), strict=True)):
                ref = fold_for_scoring(tokens.decode(ref_ids), hp["target"], phone_map)
                hyp = fold_for_scoring(tokens.decode(ids[i]), hp["target"], phone_map)
                counts = count_errors(ref, hyp)
                total.add(counts)
                refs[utt], hyps[utt] = " ".join(ref), " ".join(hyp)
                rows.append(
                    f"{utt} {counts.ref_words} {counts.substitutions} {counts.deletions} "
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
