"""WSJ and LibriSpeech readers on fixtures in the real formats, the n-gram LM and ARPA, lexicon + LM decoding."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gatescope.asr.corpora.librispeech import prepare_librispeech
from gatescope.asr.corpora.wsj import normalize_transcript, prepare_wsj
from gatescope.asr.data.datadir import read_table, validate_data_dir
from gatescope.asr.data.sphere import encode_header, sphere_bytes
from gatescope.asr.decoding.lang import LangDir, SearchWeights, build_lang, lexicon_decoder, lexicon_search
from gatescope.asr.decoding.lm import NgramLM, train_kneser_ney
from gatescope.asr.decoding.scoring import sclite_alignment
from gatescope.asr.tokens import TokenTable, spell, unspell
from gatescope.cli import main
from gatescope.errors import InputError


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("The [loud_breath] <uh> company's *profts* rose .", "THE <NOISE> UH COMPANY'S PROFTS ROSE"),
        ("[<door_slam] shares fell [door_slam>] ~ today", "SHARES FELL TODAY"),
        ("a lengthened wo:rd and !emphasis [/noise] [noise/]", "A LENGTHENED WORD AND EMPHASIS"),
        ('"QUOTE he said ,COMMA no', '"QUOTE HE SAID ,COMMA NO'),
    ],
)
def test_wsj_transcript_normalisation(raw: str, expected: str) -> None:
    assert normalize_transcript(raw) == expected


def _wv1(path: Path, seconds: float, coding: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = (np.random.default_rng(0).standard_normal(int(16000 * seconds)) * 1000).astype("<i2")
    if coding is None:
        path.write_bytes(sphere_bytes(pcm, 16000, {"database_id": "wsj0"}))
    else:  # a shorten-compressed header (the payload is never read without a decoder)
        fields = {"sample_count": len(pcm), "sample_rate": 16000, "channel_count": 1, "sample_n_bytes": 2}
        path.write_bytes(encode_header({**fields, "sample_coding": coding}) + b"\0" * 64)


def wsj_fixture(root: Path, upper: bool = False, shorten: bool = False) -> tuple[Path, Path]:
    """WSJ0 and WSJ1 disks in the LDC layout: 11-1.1/wsj0/..., 13-34.1/wsj1/..., with .ndx, .dot and .lsn files."""
    case = str.upper if upper else (lambda s: s)
    wsj0, wsj1 = root / "wsj0_disks", root / "wsj1_disks"
    d0, d1 = wsj0 / "11-1.1" / case("wsj0"), wsj1 / "13-34.1" / case("wsj1")
    train = {"011": ["011c0201", "011c0202"], "401": ["401c0201"]}
    for spk, utts in train.items():
        for utt in utts:
            _wv1(
                d0 / case("si_tr_s") / spk / case(f"{utt}.wv1"), 0.5, "pcm,embedded-shorten-v2.00" if shorten else None
            )
        lines = [f"Shares of [loud_breath] company {u[-1]} rose . ({u})" for u in utts]
        (d0 / case("si_tr_s") / spk / case(f"{spk}c0200.dot")).write_text("\n".join(lines) + "\n")
    _wv1(d0 / case("si_et_20") / "440" / case("440c0201.wv1"), 0.4)
    (d0 / case("si_et_20") / "440" / case("440c0200.dot")).write_text("The index fell (440c0201)\n")
    _wv1(d1 / case("si_dt_20") / "4k0" / case("4k0c0301.wv1"), 0.3)
    (d1 / case("si_dt_20") / "4k0" / case("4k0c0300.lsn")).write_text("TRADING WAS LIGHT (4k0c0301)\n")
    indices0, indices1 = d0 / case("doc") / case("indices"), d1 / case("doc") / case("indices")
    (indices0 / case("train")).mkdir(parents=True)
    (indices0 / case("train") / case("tr_s_wv1.ndx")).write_text(
        ";; training index\n11_1_1:wsj0/si_tr_s/011/011c0201.wv1\n11_1_1:wsj0/si_tr_s/011/011c0202.wv1\n"
        "11_2_1:wsj0/si_tr_s/401/401c0201.wv1\n"
    )
    (indices0 / case("test") / case("nvp")).mkdir(parents=True)
    (indices0 / case("test") / case("nvp") / case("si_et_20.ndx")).write_text("11_14_1:wsj0/si_et_20/440/440c0201\n")
    indices1.mkdir(parents=True)
    (indices1 / case("h1_p0.ndx")).write_text("13_16_1:wsj1/si_dt_20/4k0/4k0c0301.wv1\n")
    (indices1 / case("si_tr_s.ndx")).write_text(";; none\n")
    return wsj0, wsj1


@pytest.mark.parametrize("upper", [False, True])
def test_prepare_wsj_reads_the_ldc_layout(tmp_path: Path, upper: bool) -> None:
    wsj0, wsj1 = wsj_fixture(tmp_path, upper=upper)
    out = prepare_wsj(wsj0, wsj1, tmp_path / "data", progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["dev93", "eval92", "train_si284", "train_si84"]
    for split in out.iterdir():
        assert validate_data_dir(split) == []
    text = read_table(out / "train_si84" / "text")
    assert text == {"011c0201": "SHARES OF <NOISE> COMPANY 1 ROSE", "011c0202": "SHARES OF <NOISE> COMPANY 2 ROSE"}
    assert "401c0201" not in text  # excluded as in Kaldi's recipe
    assert read_table(out / "eval92" / "text") == {"440c0201": "THE INDEX FELL"}
    assert read_table(out / "dev93" / "text") == {"4k0c0301": "TRADING WAS LIGHT"}  # from the .lsn file
    assert read_table(out / "dev93" / "utt2dur") == {"4k0c0301": "0.300"}
    assert read_table(out / "eval92" / "utt2spk") == {"440c0201": "440"}
    wsj0_only = prepare_wsj(wsj0, None, tmp_path / "data0", progress=False)
    assert sorted(p.name for p in wsj0_only.iterdir()) == ["eval92", "train_si84"]


def test_shorten_audio_needs_a_decoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wsj0, wsj1 = wsj_fixture(tmp_path, shorten=True)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(InputError, match=r"011c0201\.wv1: shorten-compressed SPHERE audio; install sph2pipe"):
        prepare_wsj(wsj0, wsj1, tmp_path / "data", progress=False)
    tool = empty / "sph2pipe"
    tool.write_text("#!/bin/sh\nexit 1\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    out = prepare_wsj(wsj0, wsj1, tmp_path / "data", progress=False)
    entry = read_table(out / "train_si84" / "wav.scp")["011c0201"]
    assert entry.startswith("sph2pipe -f wav ") and entry.endswith(".wv1 |")


def test_wsj_errors_name_the_file(tmp_path: Path) -> None:
    wsj0, wsj1 = wsj_fixture(tmp_path)
    dot = next(wsj0.rglob("440c0200.dot"))
    dot.write_text("no utterance id here\n")
    with pytest.raises(InputError, match=r"440c0200\.dot:1: expected 'TRANSCRIPT \(uttid\)'"):
        prepare_wsj(wsj0, wsj1, tmp_path / "data", progress=False)
    dot.write_text("")
    with pytest.raises(InputError, match=r"eval92: no \.dot/\.lsn transcript for 1 utterance"):
        prepare_wsj(wsj0, wsj1, tmp_path / "data", progress=False)
    with pytest.raises(InputError, match="not an LDC WSJ layout"):
        prepare_wsj(tmp_path / "data", None, tmp_path / "out", progress=False)


def librispeech_fixture(root: Path) -> Path:
    """Two LibriSpeech subsets (flac, .trans.txt, SPEAKERS.TXT) of two short utterances each under ``root``."""
    for subset, speaker, chapter in (("dev-clean", "84", "121123"), ("train-clean-100", "103", "1240")):
        folder = root / subset / speaker / chapter
        folder.mkdir(parents=True)
        lines = []
        for k in range(2):
            utt = f"{speaker}-{chapter}-{k:04d}"
            sf.write(folder / f"{utt}.flac", np.zeros(8000 + k * 1600, dtype=np.float32) + 0.01, 16000)
            lines.append(f"{utt} GO DO YOU HEAR {k}")
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    (root / "SPEAKERS.TXT").write_text(";ID |SEX| SUBSET | MINUTES | NAME\n84 | F | dev-clean | 8.0 | Christie\n"
                                       "103 | F | train-clean-100 | 25 | John\n")  # fmt: skip
    return root


def test_prepare_librispeech(tmp_path: Path) -> None:
    root = librispeech_fixture(tmp_path / "LibriSpeech")
    out = prepare_librispeech(root, tmp_path / "data", progress=False)
    assert [p.name for p in out] == ["dev_clean", "train_clean_100"]
    for split in out:
        assert validate_data_dir(split) == []
    assert read_table(out[0] / "utt2dur") == {"84-121123-0000": "0.500", "84-121123-0001": "0.600"}
    assert read_table(out[0] / "utt2spk")["84-121123-0001"] == "84-121123"
    assert read_table(out[1] / "spk2gender") == {"103-1240": "f"}


def test_kneser_ney_unigram_by_hand() -> None:
    # Counts A:2, B:1, </s>:2 (total 5); too few for count-of-counts, so D = 0.5, 1, 1.5; gamma = (0.5 + 2) / 5.
    lm = train_kneser_ney([["A"], ["A", "B"]], order=1)
    probs = {w: 10 ** lm.logprob[1][(w,)] for w in ("A", "B", "</s>", "<unk>")}
    assert probs == pytest.approx({"A": 0.325, "B": 0.225, "</s>": 0.325, "<unk>": 0.125})
    assert lm.logprob[1][("<s>",)] == -99.0


@settings(max_examples=25, deadline=None)
@given(
    sentences=st.lists(st.lists(st.sampled_from("ABCDE"), min_size=1, max_size=6), min_size=1, max_size=30),
    order=st.integers(1, 4),
)
def test_kneser_ney_distributions_sum_to_one(sentences: list[list[str]], order: int) -> None:
    lm = train_kneser_ney(sentences, order)
    vocabulary = [w for w in lm.vocabulary if w != "<s>"]
    histories = [(), ("<s>",), ("A",), ("<s>", "B"), ("C", "A", "B"), ("Z",)]
    for history in histories:
        total = sum(10 ** lm.score(w, history) for w in vocabulary)
        assert total == pytest.approx(1.0, abs=1e-6), history


def test_arpa_round_trip_kenlm_and_perplexity(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    grammar = [["THE", "CAT", "SAT"], ["A", "DOG", "RAN"], ["THE", "DOG", "SAT"], ["A", "CAT", "RAN"]]
    text = [grammar[i] for i in rng.integers(0, 4, 400)]
    lm = train_kneser_ney(text, order=3)
    for path in (tmp_path / "lm.arpa", tmp_path / "lm.arpa.gz"):
        lm.write_arpa(path)
        back = NgramLM.read_arpa(path)
        assert back.order == 3 and back.logprob[2].keys() == lm.logprob[2].keys()
        assert back.score("SAT", ("THE", "CAT")) == pytest.approx(lm.score("SAT", ("THE", "CAT")), abs=1e-6)
    assert "\t" in (tmp_path / "lm.arpa").read_text().splitlines()[7]  # KenLM needs tab-separated fields
    in_domain = lm.perplexity(grammar)
    scrambled = lm.perplexity([list(reversed(s)) for s in grammar])
    assert in_domain < 3.0 < scrambled
    with pytest.raises(InputError, match="not an ARPA"):
        (tmp_path / "bad.arpa").write_text("hello\n")
        NgramLM.read_arpa(tmp_path / "bad.arpa")


def _spelled_emissions(text: str, tokens: list[str], confusions: dict[int, tuple[str, str]]) -> torch.Tensor:
    """Log-probs spelling ``text`` (a blank between tokens); at character positions in ``confusions`` the first
    symbol is slightly preferred over the second."""
    rows = []
    for i, symbol in enumerate(spell(text)):
        row = torch.full((len(tokens),), -12.0)
        if i in confusions:
            wrong, right = confusions[i]
            row[tokens.index(wrong)], row[tokens.index(right)] = math.log(0.55), math.log(0.45)
        else:
            row[tokens.index(symbol)] = 0.0
        blank = torch.full((len(tokens),), -12.0)
        blank[0] = 0.0
        rows += [row, blank]
    return torch.stack(rows).log_softmax(-1)


def test_lexicon_and_lm_fix_a_spelling_the_acoustics_got_wrong(tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text("THE CAT SAT\nA DOG RAN\nTHE DOG SAT\nA CAT RAN\n" * 20)
    info = build_lang(tmp_path / "text.txt", tmp_path / "lang", order=3)
    assert info["lexicon_words"] == 6 and (tmp_path / "lang" / "lexicon.txt").read_text().startswith("A\tA |\n")
    tokens = list(TokenTable.for_target("chars", {"u": "THE CAT SAT A DOG RAN K"}).symbols)
    emission = _spelled_emissions("THE CAT SAT", tokens, {4: ("K", "C")})  # acoustically "KAT" by a little
    greedy = unspell([tokens[i] for i in emission.argmax(-1).tolist() if i != 0])
    assert greedy == ["THE", "KAT", "SAT"]
    decoder = lexicon_decoder(tokens, LangDir(tmp_path / "lang"), SearchWeights(lm_weight=1.0, beam=16))
    assert lexicon_search(decoder, [emission]) == [["THE", "CAT", "SAT"]]


def test_character_targets_and_sclite_alignment() -> None:
    table = TokenTable.for_target("chars", {"a": "AB C'D"})
    assert table.symbols == ("<blk>", "|", "'", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "the whole alphabet, seen or not"
    assert TokenTable.for_target("chars", {"a": "ab"}).symbols[3:] == tuple("abcdefghijklmnopqrstuvwxyz")
    assert table.decode(table.encode("AB C'D")) == ["A", "B", "|", "C", "'", "D", "|"]
    assert unspell(table.decode(table.encode("AB C'D"))) == ["AB", "C'D"]
    ref, hyp = sclite_alignment("the cat sat".split(), "the bat sat on".split())
    assert ref == "the CAT sat ***" and hyp == "the BAT sat ON"


def test_char_model_tune_lm_and_decode_with_lang(tiny_data: Path, tmp_path: Path) -> None:
    """The whole word path on the tiny corpus: character CTC training, a lang dir, LM tuning, LM decoding."""
    from gatescope.asr.decoding.decode import decode_data_dir, tune_lm
    from gatescope.asr.training.config import TrainConfig
    from gatescope.asr.training.trainer import train

    data = {}
    for split in ("train", "dev"):
        target = tmp_path / split
        target.mkdir()
        for name in ("feats.scp", "cmvn.scp", "feat_conf.yaml", "utt2spk", "spk2utt", "wav.scp"):
            (target / name).write_text((tiny_data / split / name).read_text())
        words = read_table(tiny_data / split / "text.wrd")
        (target / "text").write_text("".join(f"{u} {w.upper()}\n" for u, w in sorted(words.items())))
        data[split] = target
    (tmp_path / "lm.txt").write_text("".join(line.split(" ", 1)[1] for line in open(data["train"] / "text")))
    build_lang(tmp_path / "lm.txt", tmp_path / "lang", extra_words={"EXTRA"})
    config = TrainConfig(
        target="chars", train_dir=str(data["train"]), valid_dir=str(data["dev"]), num_layers=1, hidden_size=32,
        batch_size=2, max_epochs=1, progress_bar=False, frame_stack=2,
    )  # fmt: skip
    train(config, tmp_path / "exp")
    lang = LangDir(tmp_path / "lang")
    best, rate, _ = tune_lm(tmp_path / "exp", data["dev"], lang, [0.5, 1.0], [0.0], beam=8, progress=False)
    assert (tmp_path / "exp" / "lm_tuning.json").is_file() and best.lm_weight in (0.5, 1.0) and rate >= 0
    _, out = decode_data_dir(tmp_path / "exp", data["dev"], lang=lang)
    assert out.name == "decode_dev_beam8_lm" and (out / "align.txt").read_text().startswith("id: (")
    assert main(["decode", "--model", str(tmp_path / "exp"), "--data", str(data["dev"])]) == 0
    assert os.path.isdir(tmp_path / "exp" / "decode_dev_greedy")
