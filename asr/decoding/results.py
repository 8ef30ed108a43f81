"""``gatescope results``: one table of experiments (cell, parameters, error rates per decoded data dir)."""

from __future__ import annotations

import json
from pathlib import Path

from gatescope.asr.models.checkpoint import load_model


def results_table(experiments: list[Path]) -> str:
    """A Markdown table of every ``decode_*/result.json`` (and ``real_*/result.json``, real recordings scored by
    ``gatescope score-real``) under each experiment dir; where ``score-real --anchor`` scored PocketSphinx on
    the same recordings (``real_*/anchor/result.json``), a last row gives its figure."""
    rows: list[tuple[str, str, str, str, dict[str, str]]] = []
    columns: list[str] = []
    anchor: dict[str, str] = {}
    for exp in experiments:
        model = load_model(exp)
        params = sum(p.numel() for p in model.parameters())
        scores: dict[str, str] = {}
        for result in sorted(exp.glob("decode_*/result.json")):
            data = json.loads(result.read_text())
            column = f"{data['metric']} {Path(data['data']).name} ({data['decoding']})"
            scores[column] = f"{data['error_rate']:.2f}"
            if column not in columns:
                columns.append(column)
        for result in sorted(exp.glob("real_*/result.json")):  # gatescope score-real --out EXP/real_<set>
            data = json.loads(result.read_text())
            column = f"{data['metric']} real ({result.parent.name.removeprefix('real_').upper()})"
            scores[column] = f"{data['rate']:.2f}"
            if column not in columns:
                columns.append(column)
            if (result.parent / "anchor" / "result.json").is_file():
                anchor[column] = f"{json.loads((result.parent / 'anchor' / 'result.json').read_text())['rate']:.2f}"
        hp = model.train_config
        shape = f"{hp['num_layers']}x{hp['hidden_size']}" + (" bi" if hp["bidirectional"] else "")
        rows.append((exp.name, str(hp["cell"]), shape, f"{params / 1e6:.2f} M", scores))
    if anchor:
        rows.append(("PocketSphinx (anchor)", "-", "-", "-", anchor))
    header = ["experiment", "cell", "layers", "parameters", *columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, cell, shape, size, values in rows:
        lines.append("| " + " | ".join([name, cell, shape, size, *[values.get(c, "-") for c in columns]]) + " |")
    return "\n".join(lines)
