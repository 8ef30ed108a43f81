"""The recurrent cell library: parity with torch.nn, chunked == whole, every variant against its equations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from gatescope.asr.models.cells import KINDS, RecurrentStack, cpu_matmul, onednn_lstm
from gatescope.asr.models.cells.cpu_matmul import PACK_BELOW_ROWS

TORCH_MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
LSTM_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _reference_run(ref: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, tuple]:
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, final = ref(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out, final if isinstance(final, tuple) else (final,)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["lstm", "gru", "rnn"]),
    input_size=st.integers(1, 6),
    hidden=st.integers(1, 8),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    batch=st.integers(1, 4),
    time=st.integers(1, 9),
    seed=st.integers(0, 10_000),
    proj=st.integers(0, 3),
)
def test_introspection_path_matches_torch_nn(
    kind, input_size, hidden, layers, bidirectional, batch, time, seed, proj
) -> None:
    torch.manual_seed(seed)
    proj = proj if kind == "lstm" and proj < hidden else 0
    extra = {"proj_size": proj} if proj else {}
    ref = TORCH_MODULES[kind](
        input_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional, **extra
    )
    ours = RecurrentStack(kind, input_size, hidden, layers, bidirectional=bidirectional, **extra)
    assert sorted(ours.state_dict()) == sorted(ref.state_dict())
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(batch, time, input_size)
    lengths = torch.randint(1, time + 1, (batch,))
    lengths[0] = time
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, final_ref = _reference_run(ref, x_ref, lengths)
    out, final, states = ours(x_ours, lengths, return_states=True)
    torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=1e-5)
    for a, b in zip(final, final_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert len(states) == layers and states[-1]["h"].shape[:2] == (batch, time)
    weights = torch.randn_like(out_ref)
    (out_ref * weights).sum().backward()
    (out * weights).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, atol=1e-5, rtol=1e-4)
    ref_grads = dict(ref.named_parameters())
    for name, param in ours.named_parameters():
        flat = name.replace("layers.", "").replace(".rnn.", ".")
        layer, rest = flat.split(".", 1)
        key = rest.replace("_l0", f"_l{layer}")
        torch.testing.assert_close(param.grad, ref_grads[key].grad, atol=1e-5, rtol=1e-4)
    # The fast path of the same module agrees too, and a state dict goes back into torch.nn.
    out_fast = ours(x, lengths).output
    torch.testing.assert_close(out_fast, out.detach(), atol=1e-5, rtol=1e-5)
    ref.load_state_dict(ours.state_dict())


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """PyTorch at ``count`` threads, then as before (the test suite's workers run at one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def matmul_backend(onednn: bool) -> Iterator[None]:
    """The CPU frame loops' products all by oneDNN, however small (where the build has it), or, with
    ``onednn=False``, all by PyTorch's BLAS, as on a build without oneDNN."""
    if onednn:
        with mock.patch.object(cpu_matmul, "ONEDNN_MIN_MACS", 0):
            yield
    else:
        with mock.patch.object(cpu_matmul, "onednn_products_available", lambda: False):
            yield


@contextmanager
def fused_lstm_recording(on: bool) -> Iterator[None]:
    """The LSTM's records from oneDNN's fused kernel where it applies (cells/onednn_lstm.py) or, with ``on=False``,
    by the frame loop, as where the kernel's workspace does not read back."""
    if on:
        yield
    else:
        with mock.patch.object(onednn_lstm, "fused_lstm_available", lambda x: False):
            yield


@pytest.mark.parametrize("rows", [0, 1, 8, PACK_BELOW_ROWS + 5])
def test_packed_products_equal_torch_matmul(rows: int) -> None:
    """oneDNN's packed and plain products and the BLAS fallback give ``x W^T + b``, ``other + x W^T`` and
    ``a @ b`` to float rounding, for few rows (packed weight), many (plain) and none (a chunk without frames)."""
    torch.manual_seed(rows)
    x, weight, bias, other = (
        torch.randn(rows, 370),
        torch.randn(530, 370) / 20,
        torch.randn(530),
        torch.randn(rows, 530),
    )
    for use_onednn in (True, False):
        product = cpu_matmul.PackedLinear(weight, bias, rows, use_onednn=use_onednn)
        large = max(rows, 1) * weight.numel() >= cpu_matmul.ONEDNN_MIN_MACS  # one row: the BLAS's
        assert product.onednn == (use_onednn and large and cpu_matmul.onednn_products_available())
        torch.testing.assert_close(product(x), x @ weight.T + bias, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(product.add_to(other, x), other + x @ weight.T + bias, atol=1e-5, rtol=1e-5)
        no_bias = cpu_matmul.PackedLinear(weight, None, rows, use_onednn=use_onednn)
        torch.testing.assert_close(no_bias.add_to(other, x), other + x @ weight.T, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cpu_matmul.product(x.T, other), x.T @ other, atol=1e-4, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["lstm", "gru", "rnn"]),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    batch=st.integers(1, 4),
    time=st.integers(1, 12),
    seed=st.integers(0, 10_000),
    start_from_state=st.booleans(),
    residual=st.booleans(),
    threads=st.sampled_from([1, 2]),
    onednn=st.booleans(),
    fused=st.booleans(),
)
def test_introspection_equals_the_step_by_step_reference(
    kind, layers, bidirectional, batch, time, seed, start_from_state, residual, threads, onednn, fused
) -> None:
    """Every recorded gate, cell value and hidden state of both introspection paths (in place, and from the fused
    kernel's outputs) equals the step-by-step equations within 1e-5, with padding, both directions, residual
    shortcuts, from a carried-over state, on one PyTorch thread or two, the LSTM's records from oneDNN's fused
    kernel or by the frame loop, with the frame loops' products by oneDNN or by PyTorch's BLAS."""
    torch.manual_seed(seed)
    stack = RecurrentStack(kind, 5, 7, layers, bidirectional=bidirectional, residual=residual)
    x = torch.randn(batch, time, 5)
    lengths = torch.randint(1, time + 1, (batch,))
    lengths[0] = time
    state = None
    if start_from_state:
        state = tuple(torch.randn_like(s) for s in stack.initial_state(batch))
    with torch.no_grad():  # inference: the in-place path (CPU)
        with torch_threads(threads), matmul_backend(onednn), fused_lstm_recording(fused):
            in_place = stack(x, lengths, state, return_states=True)
        steps = stack(x, lengths, state, return_states=True, step_by_step=True)
    from_kernel = stack(x, lengths, state, return_states=True)  # with gradients: from the fused kernel's outputs
    for fast in (in_place, from_kernel):
        torch.testing.assert_close(fast.output, steps.output, atol=1e-5, rtol=1e-5)
        for a, b in zip(fast.final_state, steps.final_state, strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        for rec_fast, rec_steps in zip(fast.states, steps.states, strict=True):
            assert sorted(rec_fast) == sorted(rec_steps)
            for key in rec_steps:
                torch.testing.assert_close(rec_fast[key], rec_steps[key], atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="this PyTorch build has no oneDNN")
@pytest.mark.parametrize(("units", "batch"), [(256, 1), (256, 8), (320, 16), (33, 3)])
def test_fused_lstm_records_read_back_at_real_widths(units: int, batch: int) -> None:
    """At the widths models use (gate rows of 1024 and 1280 floats, which oneDNN pads by 16 against 4K aliasing,
    and an odd one) the workspace reads back on this PyTorch: the fused path is taken and equals the equations."""
    torch.manual_seed(units + batch)
    stack = RecurrentStack("lstm", 40, units, 2).eval()
    x = torch.randn(batch, 23, 40)
    state = tuple(torch.randn_like(s) / 3 for s in stack.initial_state(batch))
    with torch.no_grad():
        steps = stack(x, None, state, return_states=True, step_by_step=True)
        layer = stack.layers[0]
        record = onednn_lstm.record_lstm(x, state[0][0], state[1][0], *(layer.param(n, "") for n in LSTM_WEIGHTS))
        assert record is not None, "oneDNN's LSTM workspace no longer reads back: introspection runs the frame loop"
        for key, value in record._asdict().items():
            torch.testing.assert_close(value, steps.states[0][key], atol=1e-5, rtol=1e-5)
        fused = stack(x, None, state, return_states=True)
    for rec_fused, rec_steps in zip(fused.states, steps.states, strict=True):
        for key in rec_steps:
            torch.testing.assert_close(rec_fused[key], rec_steps[key], atol=1e-5, rtol=1e-5)


def test_a_misread_workspace_falls_back_to_the_frame_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the workspace does not read back as the kernel's own outputs (here: a wrong row stride, as another
    oneDNN might lay it out), the fused path declines for the rest of the process and the frame loop records."""
    monkeypatch.setattr(onednn_lstm, "_layout_holds", True)
    monkeypatch.setattr(onednn_lstm, "gate_row_floats", lambda units: 4 * units + 16)
    torch.manual_seed(5)
    stack = RecurrentStack("lstm", 6, 12, 2).eval()
    x = torch.randn(3, 9, 6)
    with torch.no_grad():
        steps = stack(x, return_states=True, step_by_step=True)
        layer = stack.layers[0]
        weights = [layer.param(n, "") for n in LSTM_WEIGHTS]
        assert onednn_lstm.record_lstm(x, torch.zeros(3, 12), torch.zeros(3, 12), *weights) is None
        assert not onednn_lstm._layout_holds and not onednn_lstm.fused_lstm_available(x)
        recorded = stack(x, return_states=True)
    for rec, ref in zip(recorded.states, steps.states, strict=True):
        for key in ref:
            torch.testing.assert_close(rec[key], ref[key], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_chunked_equals_whole(kind: str) -> None:
    torch.manual_seed(1)
    model = RecurrentStack(kind, 4, 6, 2, residual=True, gru_formulation="cho" if kind == "gru" else "cudnn")
    x = torch.randn(2, 11, 4)
    whole, whole_final, whole_states = model(x, return_states=True)
    state, outputs, gate_chunks = None, [], []
    for chunk in x.split([3, 1, 5, 2], dim=1):
        out, state, states = model(chunk, state=state, return_states=True)
        outputs.append(out)
        gate_chunks.append(states[1]["h"])
    torch.testing.assert_close(torch.cat(outputs, 1), whole, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(torch.cat(gate_chunks, 1), whole_states[1]["h"], atol=1e-6, rtol=1e-5)
    for a, b in zip(state, whole_final, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


# --- plain reference steps, written from the equations in the module docstring -------------------------------


def _sig(v: torch.Tensor) -> torch.Tensor:
    return 1 / (1 + torch.exp(-v))


def _reference_lstm_variant(kind: str, layer, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Greff et al.'s equations for one layer, one direction, frame by frame, with explicit per-gate weights."""
    hidden = layer.hidden_size
    names = layer.flags.gates
    p = {n: layer.param(n, "").detach() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    w_ih = dict(zip(names, p["weight_ih"].split(hidden), strict=True))
    w_hh = dict(zip(names, p["weight_hh"].split(hidden), strict=True))
    b = dict(zip(names, (p["bias_ih"] + p["bias_hh"]).split(hidden), strict=True))
    peeps = layer.flags.peephole_gates
    peep = dict(zip(peeps, layer.param("weight_peep", "").detach(), strict=True)) if peeps else {}
    q = layer.param("weight_gg", "").detach() if kind == "fgr" else None
    h = torch.zeros(x.shape[0], hidden)
    c = torch.zeros(x.shape[0], hidden)
    prev = {"i": torch.zeros_like(h), "f": torch.zeros_like(h), "o": torch.zeros_like(h)}
    out = {k: [] for k in "ifogch"}
    for t in range(x.shape[1]):
        xt = x[:, t]

        def pre(gate: str, cell: torch.Tensor, xt=xt, h=h, prev=prev) -> torch.Tensor:
            a = xt @ w_ih[gate].T + h @ w_hh[gate].T + b[gate]
            if gate in peep:
                a = a + peep[gate] * cell
            if q is not None and gate != "g":  # full gate recurrence feeds the gates, not the candidate
                row = {"i": 0, "f": 1, "o": 2}[gate]
                for col, j in enumerate("ifo"):
                    a = a + prev[j] @ q[row * hidden : (row + 1) * hidden, col * hidden : (col + 1) * hidden].T
            return a

        g = pre("g", c) if kind == "niaf" else torch.tanh(pre("g", c))
        i = torch.ones_like(c) if kind == "nig" else _sig(pre("i", c))
        f = 1 - i if kind == "cifg" else torch.ones_like(c) if kind == "nfg" else _sig(pre("f", c))
        c_new = f * c + i * g
        o = torch.ones_like(c) if kind == "nog" else _sig(pre("o", c_new))
        if kind == "lazy":
            h = o * torch.tanh(c)
        elif kind == "noaf":
            h = o * c_new
        else:
            h = o * torch.tanh(c_new)
        c = c_new
        prev = {"i": i, "f": f, "o": o}
        for k, v in zip("ifogch", (i, f, o, g, c, h), strict=True):
            out[k].append(v)
    return {k: torch.stack(v, 1) for k, v in out.items()}


@pytest.mark.parametrize("kind", ["np", "nig", "nfg", "nog", "niaf", "noaf", "cifg", "fgr", "lazy"])
def test_lstm_variant_equations(kind: str) -> None:
    torch.manual_seed(3)
    model = RecurrentStack(kind, 3, 5, 1)
    x = torch.randn(2, 7, 3)
    expected = _reference_lstm_variant(kind, model.layers[0], x)
    _, _, states = model(x, return_states=True)
    for key, value in expected.items():
        torch.testing.assert_close(states[0][key], value, atol=1e-5, rtol=1e-5, msg=f"{kind} gate {key}")


def test_cho_gru_equations() -> None:
    torch.manual_seed(4)
    model = RecurrentStack("gru", 3, 4, 1, gru_formulation="cho")
    layer = model.layers[0]
    x = torch.randn(2, 5, 3)
    w_ir, w_iz, w_in = layer.weight_ih_l0.detach().split(4)
    w_hr, w_hz, w_hn = layer.weight_hh_l0.detach().split(4)
    b_ir, b_iz, b_in = layer.bias_ih_l0.detach().split(4)
    b_hr, b_hz, b_hn = layer.bias_hh_l0.detach().split(4)
    h = torch.zeros(2, 4)
    expected = []
    for t in range(5):
        xt = x[:, t]
        r = _sig(xt @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
        z = _sig(xt @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
        n = torch.tanh(xt @ w_in.T + b_in + (r * h) @ w_hn.T + b_hn)
        h = (1 - z) * n + z * h
        expected.append(h)
    out, _, _ = model(x, return_states=True)
    torch.testing.assert_close(out, torch.stack(expected, 1), atol=1e-5, rtol=1e-5)
    cudnn = RecurrentStack("gru", 3, 4, 1)
    cudnn.load_state_dict(model.state_dict())
    assert not torch.allclose(cudnn(x)[0], out), "the two GRU formulations differ"


def test_forget_bias_and_residual() -> None:
    model = RecurrentStack("lstm", 6, 6, 2, forget_bias=1.0, residual=True)
    assert torch.all(model.state_dict()["bias_ih_l0"][6:12] == 1.0)
    assert torch.all(model.state_dict()["bias_hh_l0"][6:12] == 0.0)
    plain = RecurrentStack("lstm", 6, 6, 2, forget_bias=1.0, residual=False)
    plain.load_state_dict(model.state_dict())
    x = torch.randn(1, 4, 6)
    _, _, states = plain(x, return_states=True)
    out = model(x).output
    first = states[0]["h"] + x
    second_plain, _ = RecurrentStack("lstm", 6, 6, 1).requires_grad_(False), None
    second_plain.load_state_dict({k.replace("_l1", "_l0"): v for k, v in model.state_dict().items() if "_l1" in k})
    torch.testing.assert_close(out, second_plain(first)[0] + first, atol=1e-6, rtol=1e-5)


def test_padding_gives_zeros_and_the_state_at_the_last_valid_frame() -> None:
    torch.manual_seed(5)
    model = RecurrentStack("fgr", 3, 4, 2)
    x = torch.randn(2, 6, 3)
    out, final, _ = model(x, torch.tensor([6, 3]))
    assert torch.all(out[1, 3:] == 0)
    alone, alone_final, _ = model(x[1:, :3])
    torch.testing.assert_close(out[1, :3], alone[0])
    for a, b in zip(final, alone_final, strict=True):
        torch.testing.assert_close(a[:, 1], b[:, 0])


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown cell kind 'lstmx'"):
        RecurrentStack("lstmx", 3, 4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_cudnn_fast_path_matches_introspection_on_gpu(kind: str) -> None:
    torch.manual_seed(7)
    model = RecurrentStack(kind, 8, 16, 2, bidirectional=True).cuda()
    x = torch.randn(3, 20, 8, device="cuda")
    lengths = torch.tensor([20, 13, 5])
    fast, fast_final, _ = model(x, lengths)
    steps, steps_final, _ = model(x, lengths, return_states=True)
    torch.testing.assert_close(fast, steps, atol=1e-5, rtol=1e-4)
    for a, b in zip(fast_final, steps_final, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(
    input_size=st.integers(1, 6),
    hidden=st.integers(1, 8),
    layers=st.integers(1, 3),
    batch=st.integers(1, 4),
    time=st.integers(1, 9),
    seed=st.integers(0, 10_000),
    use_output=st.booleans(),
    onednn=st.booleans(),
)
def test_cpu_gru_training_path_matches_torch_nn_with_gradients(
    input_size, hidden, layers, batch, time, seed, use_output, onednn
) -> None:
    """Training a one-direction GRU on the CPU takes the written-out backward (gru_cpu.py): outputs, final state
    and every gradient (input, initial state, weights) equal torch.nn.GRU's, whether the loss reads the outputs
    or only the final state, with its products by oneDNN or by PyTorch's BLAS."""
    torch.manual_seed(seed)
    ref = torch.nn.GRU(input_size, hidden, num_layers=layers, batch_first=True)
    ours = RecurrentStack("gru", input_size, hidden, layers)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(batch, time, input_size)
    h0 = torch.randn(layers, batch, hidden)
    weights = torch.randn(batch, time, hidden)
    results = []
    for module in (ref, ours):
        x_in, h_in = x.clone().requires_grad_(), h0.clone().requires_grad_()
        with matmul_backend(onednn):  # the backward's products too
            out = module(x_in, h_in) if module is ref else module(x_in, None, h_in)
            output, final = (out[0], out[1]) if module is ref else (out.output, out.final_state[0])
            loss = (output * weights).sum() if use_output else (final * 0.5).sum()
            loss.backward()
        grads = [x_in.grad, h_in.grad, *(p.grad for _, p in sorted(module.state_dict(keep_vars=True).items()))]
        results.append((output.detach(), final.detach(), grads))
    (out_ref, final_ref, grads_ref), (out_ours, final_ours, grads_ours) = results
    torch.testing.assert_close(out_ours, out_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(final_ours, final_ref, atol=1e-5, rtol=1e-5)
    for a, b in zip(grads_ours, grads_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
