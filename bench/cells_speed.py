"""Recurrent cell speed, side by side in one run (CPU here; CUDA too when a GPU is present).

- inference: the introspection path (``return_states=True``, every gate recorded) against ``torch.nn.LSTM``;
- training step (forward + backward): a generic-path variant (peephole LSTM, Cho GRU, ...) against the fast path.
Shapes follow the issue: 4 layers x 320 units, batch 16 x 300 frames, 40 input features.

    python bench/cells_speed.py [--device cpu|cuda] [--repeats 3]
"""

from __future__ import annotations

import argparse

import torch
from common import best_time, write_result

from gatescope.asr.models.cells import RecurrentStack


def _introspection(kind: str, x: torch.Tensor, shape: dict, repeats: int, device: str) -> dict:
    """Per-frame states and gates of every layer against ``torch.nn.LSTM``/``GRU`` inference of the same shapes,
    on one thread and on all, with the largest difference from the step-by-step reference."""
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    reference = module(40, shape["hidden_size"], shape["num_layers"], batch_first=True).to(device).eval()
    ours = RecurrentStack(kind, **shape).to(device).eval()
    ours.load_state_dict(reference.state_dict())
    result: dict = {}
    threads = torch.get_num_threads()
    with torch.no_grad():
        steps = ours(x, return_states=True, step_by_step=True).states
        fused = ours(x, return_states=True).states
        result["max_abs_diff_from_step_reference"] = float(
            max((a[k] - b[k]).abs().max() for a, b in zip(steps, fused, strict=True) for k in a)
        )
        for n in sorted({1, threads}):
            torch.set_num_threads(n)
            t_ref = best_time(lambda: reference(x), repeats, device=device)
            t_intro = best_time(lambda: ours(x, return_states=True), repeats, device=device)
            result[f"threads_{n}"] = {
                f"torch_nn_{kind}_seconds": round(t_ref, 4),
                "introspection_seconds": round(t_intro, 4),
                "ratio": round(t_intro / t_ref, 2),
            }
        torch.set_num_threads(threads)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    device = args.device
    torch.manual_seed(0)
    x = torch.randn(args.batch, args.frames, 40, device=device)
    shape = dict(input_size=40, hidden_size=args.hidden, num_layers=args.layers)

    reference = torch.nn.LSTM(40, args.hidden, args.layers, batch_first=True).to(device).eval()
    ours = RecurrentStack("lstm", **shape).to(device).eval()
    ours.load_state_dict(reference.state_dict())
    with torch.no_grad():
        t_ref = best_time(lambda: reference(x), args.repeats, device=device)
        t_fast = best_time(lambda: ours(x), args.repeats, device=device)
        t_intro = best_time(lambda: ours(x, return_states=True), args.repeats, device=device)
    introspection = {kind: _introspection(kind, x, shape, args.repeats, device) for kind in ("lstm", "gru")}

    def train_step(model: torch.nn.Module) -> None:
        model.zero_grad()
        model(x)[0].square().mean().backward()

    steps = {}
    for name, kind, options in (
        ("lstm_fast", "lstm", {}),
        ("gru_fast", "gru", {}),
        ("lstm_peepholes_generic", "lstm", {"peepholes": True}),
        ("cifg_generic", "cifg", {}),
        ("lazy_generic", "lazy", {}),
        ("gru_cho_generic", "gru", {"gru_formulation": "cho"}),
    ):
        model = RecurrentStack(kind, **shape, **options).to(device).train()
        steps[name] = best_time(lambda m=model: train_step(m), args.repeats, device=device)

    write_result(
        f"cells_speed_{device}",
        {
            "shape": {"layers": args.layers, "hidden": args.hidden, "batch": args.batch, "frames": args.frames},
            "inference_seconds": {
                "torch_nn_lstm": round(t_ref, 4),
                "gatescope_fast_path": round(t_fast, 4),
                "gatescope_introspection": round(t_intro, 4),
            },
            "introspection_over_nn_lstm": round(t_intro / t_ref, 2),
            "introspection_target_at_most": 1.5 if device == "cpu" else 1.3,
            "introspection_by_threads": introspection,
            "train_step_seconds": {k: round(v, 4) for k, v in steps.items()},
            "generic_over_fast_train_step": {
                "lstm_peepholes": round(steps["lstm_peepholes_generic"] / steps["lstm_fast"], 2),
                "cifg": round(steps["cifg_generic"] / steps["lstm_fast"], 2),
                "lazy": round(steps["lazy_generic"] / steps["lstm_fast"], 2),
                "gru_cho": round(steps["gru_cho_generic"] / steps["gru_fast"], 2),
            },
        },
    )


if __name__ == "__main__":
    main()
