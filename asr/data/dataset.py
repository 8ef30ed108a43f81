"""A data dir as a CTC dataset: Kaldi ``feats.scp`` + ``text`` + ``cmvn.scp`` -> normalised examples and padded batches.

Utterances that cannot train (missing features, empty transcript, NaN/inf features, more CTC labels than frames
allow) are found when the set is opened, not mid-epoch: each is an error naming it, or, with
``skip_bad_utterances``, a warning counted in the log.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table
from gatescope.asr.features import ark as kaldi_ark
from gatescope.asr.features.cmvn import CMVN_MODES, normalize_features, shifted_stats, speech_floor
from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.asr.tokens import TokenTable
from gatescope.config import load_config
from gatescope.errors import InputError
from gatescope.noise import (
    AugmentConfig,
    AugmentDraws,
    NoiseBank,
    NoiseSpec,
    apply_augmentation,
    augmented_length,
    draw_augmentation,
    frame_levels_db,
    nonspeech,
    span_of_levels,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    """One utterance ready for CTC: id, normalised features ``(frames, dim)`` and target token ids."""

    utt: str
    feats: Tensor  # (time, dim) float32, CMVN applied
    targets: Tensor  # (labels,) int64


def ctc_min_frames(targets: list[int]) -> int:
    """Frames CTC needs for a label sequence: one per label plus a blank between each repeated pair."""
    return len(targets) + sum(1 for a, b in itertools.pairwise(targets) if a == b)


LEVEL_STREAM = 11  # the level-mismatch draw's own random stream: (seed, epoch, index, LEVEL_STREAM)


@dataclass(frozen=True)
class LevelMismatch:
    """A share ``prob`` of the training utterances made ``max_db`` dB louder or quieter (uniform) than their
    speaker's CMVN statistics say: the mismatch a stream's first words meet while online CMVN's prior, the
    training statistics, still outweighs them and the microphone's level is unlike the training speech's (README,
    "Digits": a held-out speaker recorded 21 dB quieter than the training speech)."""

    prob: float = 0.0
    max_db: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.prob > 0 and self.max_db > 0

    def shift_db(self, seed: int, epoch: int, index: int) -> float:
        """The utterance's level shift in dB (0 for the others), drawn from ``(seed, epoch, index)``."""
        if not self.enabled:
            return 0.0
        rng = np.random.default_rng([seed, epoch, index, LEVEL_STREAM])
        return float(rng.uniform(-self.max_db, self.max_db)) if rng.random() < self.prob else 0.0


class CTCDataset(Dataset[Example]):
    """The utterances of one data dir with their features and token ids, checked when opened."""

    def __init__(
        self,
        data_dir: Path,
        tokens: TokenTable,
        cmvn: str = "speaker",
        norm_vars: bool = True,
        skip_bad: bool = False,
        frame_stack: int = 1,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        cmvn_tracks_augmentation: bool = False,
        level_mismatch: LevelMismatch | None = None,
    ) -> None:
        """``cmvn_tracks_augmentation``: with per-speaker CMVN, an augmented utterance is normalised with its
        speaker's statistics shifted as the augmentation shifted its own (:func:`shifted_stats`), as online CMVN
        would see that speaker through that noise or channel; else with the clean statistics.
        ``level_mismatch``: shifts a share of the utterances' features by a level their statistics do not follow
        (:class:`LevelMismatch`; training sets only)."""
        for name in ("feats.scp", "text", "utt2spk"):
            if not (data_dir / name).is_file():
                hint = " (run gatescope features first)" if name == "feats.scp" else ""
                raise InputError(f"{data_dir / name}: missing{hint}")
        feats = read_table(data_dir / "feats.scp")
        text = read_table(data_dir / "text", allow_empty=True)
        utt2spk = read_table(data_dir / "utt2spk")
        if cmvn not in CMVN_MODES:
            raise InputError(f"CMVN mode must be one of {CMVN_MODES}, got {cmvn!r}")
        by_speaker = cmvn == "speaker"
        stats = dict(kaldi_ark.read_matrix_scp(data_dir / "cmvn.scp")) if by_speaker else {}
        if by_speaker and not stats:
            raise InputError(f"{data_dir / 'cmvn.scp'}: missing or empty (needed for per-speaker CMVN)")
        self.data_dir, self.norm_vars, self.cmvn, self.frame_stack = data_dir, norm_vars, cmvn, frame_stack
        self.items: list[tuple[str, str, list[int], int]] = []  # utt, rxfile, targets, frames
        self.skipped: dict[str, str] = {}
        for utt in sorted(text):
            problem = None
            targets = tokens.encode(text[utt], utt) if text[utt].strip() else []
            if utt not in feats:
                problem = "no entry in feats.scp"
            elif not targets:
                problem = "empty transcript"
            if problem is None:
                matrix = kaldi_ark.read_matrix(feats[utt], f"utterance {utt}")
                if not np.isfinite(matrix).all():
                    problem = "features contain NaN or inf"
                elif ctc_min_frames(targets) > -(-matrix.shape[0] // frame_stack):
                    frames = -(-matrix.shape[0] // frame_stack)
                    problem = f"{len(targets)} labels need {ctc_min_frames(targets)} frames, only {frames}"
            if problem is not None:
                if not skip_bad:
                    raise InputError(f"{data_dir}: utterance {utt}: {problem} (skip_bad_utterances=true to skip)")
                self.skipped[utt] = problem
                log.warning("skipping utterance %s: %s", utt, problem)
                continue
            self.items.append((utt, feats[utt], targets, int(matrix.shape[0])))
        if not self.items:
            raise InputError(f"{data_dir}: no usable utterances")
        self.stats = {utt: stats[utt2spk[utt]] for utt, *_ in self.items} if by_speaker else {}
        self.input_dim = int(kaldi_ark.read_matrix(self.items[0][1]).shape[1])
        self.augmenter = _Augmenter(data_dir, augment, seed) if augment is not None and augment.enabled else None
        self.tracks_augmentation = cmvn_tracks_augmentation and by_speaker and self.augmenter is not None
        self.seed, self.level_mismatch = seed, level_mismatch
        self.gain_direction = None  # set where level_mismatch shifts anything
        if level_mismatch is not None and level_mismatch.enabled:
            if not (data_dir / "feat_conf.yaml").is_file():
                raise InputError(f"{data_dir / 'feat_conf.yaml'}: missing (level_mismatch needs the feature kind)")
            self.gain_direction = load_config(FeatureConfig, data_dir / "feat_conf.yaml").gain_direction()

    def __len__(self) -> int:
        return len(self.items)

    @property
    def frames(self) -> list[int]:
        return [n for *_, n in self.items]

    def epoch_frames(self, epoch: int) -> list[int]:
        """Each utterance's frame count as ``epoch`` augments it (silence trimmed, sped up, zeros added), from the
        augmentation's draws without computing its features: what batches by length must sort on, or the padding
        grows with every frame the augmentation adds or cuts."""
        if self.augmenter is None:
            return self.frames
        return [
            frames
            if self.augmenter.draws_nonspeech(epoch, index)
            else self.augmenter.frames(utt, epoch, index, frames, self._min_frames(targets))
            for index, (utt, _, targets, frames) in enumerate(self.items)
        ]

    def _min_frames(self, targets: list[int]) -> int:
        return (ctc_min_frames(targets) + 1) * self.frame_stack

    def __getitem__(self, index: int | tuple[int, int]) -> Example:
        """An example by index; ``(index, epoch)`` (from an epoch-tagging sampler) draws its augmentation from
        ``(seed, epoch, index)``, so a resumed run perturbs exactly as an uninterrupted one."""
        index, epoch = index if isinstance(index, tuple) else (index, 0)
        utt, rxfile, targets, frames = self.items[index]
        stats = self.stats.get(utt)
        if self.augmenter is not None and self.augmenter.draws_nonspeech(epoch, index):
            matrix, targets = self.augmenter.nonspeech_features(epoch, index, frames), []
        elif self.augmenter is not None:
            matrix = self.augmenter.features(utt, epoch, index, frames, self._min_frames(targets))
            if self.tracks_augmentation and stats is not None:
                stats = self.augmenter.tracked_stats(stats, kaldi_ark.read_matrix(rxfile, f"utterance {utt}"), matrix)
        else:
            matrix = kaldi_ark.read_matrix(rxfile, f"utterance {utt}")
        if self.gain_direction is not None and self.level_mismatch is not None:
            shift_db = self.level_mismatch.shift_db(self.seed, epoch, index)
            if shift_db:  # the statistics stay as they are: the features move away from them
                matrix = matrix + (shift_db * math.log(10) / 10 * self.gain_direction).astype(matrix.dtype)
        matrix = normalize_features(matrix, self.cmvn, stats, self.norm_vars)
        return Example(
            utt,
            torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32)),
            torch.tensor(targets, dtype=torch.long),
        )


NONSPEECH_STREAM = 7  # the non-speech draw's own random stream: (seed, epoch, index, NONSPEECH_STREAM)


class _Augmenter:
    """Recomputes an utterance's features from its audio after augmenting it (speed, channel, noise, warp)."""

    BABBLE_POOL_UTTERANCES = 200  # other-speaker utterances kept in memory for babble (a seeded subset)

    def __init__(self, data_dir: Path, config: AugmentConfig, seed: int) -> None:
        for name in ("wav.scp", "feat_conf.yaml"):
            if not (data_dir / name).is_file():
                raise InputError(f"{data_dir / name}: missing (augmentation recomputes features from the audio)")
        self.config, self.seed = config, seed
        self.features_config = load_config(FeatureConfig, data_dir / "feat_conf.yaml")
        self.speech_floor = speech_floor(self.features_config.silence_level())
        self.wav_scp, self.utt2spk = read_table(data_dir / "wav.scp"), read_table(data_dir / "utt2spk")
        pool: list[tuple[str, torch.Tensor]] = []
        if config.noise_enabled and any(NoiseSpec.parse(t).kind == "babble" for t in config.types):
            utts = sorted(self.wav_scp)
            picks = np.random.default_rng(seed).permutation(len(utts))[: self.BABBLE_POOL_UTTERANCES]
            for i in sorted(picks):
                wave = read_audio(self.wav_scp[utts[i]], self.features_config.sample_rate)[0]
                pool.append((self.utt2spk[utts[i]], torch.from_numpy(wave)))
        self.bank = NoiseBank(sample_rate=self.features_config.sample_rate, babble_pool=pool)
        self.levels: dict[str, tuple[int, Tensor | None]] = {}  # utt -> samples, 10 ms levels for the trim (read once)

    def _read(self, utt: str) -> Tensor:
        return torch.from_numpy(read_audio(self.wav_scp[utt], self.features_config.sample_rate)[0])

    def _draws(self, epoch: int, index: int) -> AugmentDraws:
        return draw_augmentation(self.config, np.random.default_rng([self.seed, epoch, index]))

    @staticmethod
    def _max_speed(frames: int, min_frames: int) -> float:
        return frames / min_frames if min_frames else 2.0

    def features(self, utt: str, epoch: int, index: int, frames: int, min_frames: int) -> np.ndarray:
        """``utt`` augmented as ``(seed, epoch, index)`` draws; a speed-up that would leave fewer than
        ``min_frames`` of its ``frames`` is not applied."""
        max_speed = self._max_speed(frames, min_frames)
        out = apply_augmentation(self._read(utt), self._draws(epoch, index), self.bank, self.utt2spk[utt], max_speed)
        return compute_features(out.wave, self.features_config, out.vtln_warp).numpy()

    def frames(self, utt: str, epoch: int, index: int, frames: int, min_frames: int) -> int:
        """How many frames :meth:`features` returns for the same arguments, from the draws alone (the audio is
        read once, the first time, for its length and the levels the trim finds its edges in)."""
        rate = self.features_config.sample_rate
        if utt not in self.levels:
            wave = self._read(utt)
            self.levels[utt] = (int(wave.shape[-1]), frame_levels_db(wave, rate) if self.config.trim_prob else None)
        num_samples, levels = self.levels[utt]
        draws = self._draws(epoch, index)
        span = (0, 0) if levels is None else span_of_levels(levels, rate, num_samples, draws.trim_floor_db)
        samples = augmented_length(draws, num_samples, span, rate, self._max_speed(frames, min_frames))
        return self.features_config.num_frames(samples)

    def tracked_stats(self, speaker_stats: np.ndarray, clean: np.ndarray, perturbed: np.ndarray) -> np.ndarray:
        """``speaker_stats`` shifted as the augmentation shifted this utterance (:func:`shifted_stats`), from the
        frames of each above digital silence (the zeros augmentation adds are not speech; online CMVN leaves them
        out too); unchanged when either has fewer than two such frames."""
        before = clean[self.features_config.frame_levels(clean) >= self.speech_floor]
        after = perturbed[self.features_config.frame_levels(perturbed) >= self.speech_floor]
        if len(before) < 2 or len(after) < 2:
            return speaker_stats
        return shifted_stats(speaker_stats, before, after)

    def draws_nonspeech(self, epoch: int, index: int) -> bool:
        """Whether ``(seed, epoch, index)`` replaces the utterance by non-speech (a draw of its own, so the other
        augmentations draw the same whether this one is on or off)."""
        prob = self.config.nonspeech_prob
        return prob > 0 and np.random.default_rng([self.seed, epoch, index, NONSPEECH_STREAM]).random() < prob

    def nonspeech_features(self, epoch: int, index: int, frames: int) -> np.ndarray:
        """Features of ``frames`` frames of non-speech audio drawn from ``(seed, epoch, index)``."""
        rng = np.random.default_rng([self.seed, epoch, index, NONSPEECH_STREAM, 1])
        window, shift = self.features_config.frame_samples()
        out = nonspeech(max(frames - 1, 0) * shift + window, self.bank, rng)
        return compute_features(out.wave, self.features_config).numpy()


@dataclass
class Batch:
    """A padded batch: features ``(batch, time, dim)``, targets concatenated, and both lengths."""

    utts: list[str]
    feats: Tensor  # (batch, time, dim), zero-padded
    lengths: Tensor  # (batch,)
    targets: Tensor  # (sum of target lengths,) concatenated, as F.ctc_loss takes them
    target_lengths: Tensor  # (batch,)

    def target_lists(self) -> list[list[int]]:
        """The token ids of each utterance (``targets`` split back by ``target_lengths``)."""
        return [t.tolist() for t in torch.split(self.targets, self.target_lengths.tolist())]

    def to(self, device: torch.device) -> Batch:
        """The batch on ``device``."""
        return Batch(
            self.utts,
            self.feats.to(device),
            self.lengths.to(device),
            self.targets.to(device),
            self.target_lengths.to(device),
        )


def collate(examples: list[Example]) -> Batch:
    """Pad a list of examples into a :class:`Batch` (zeros after each utterance's last frame)."""
    lengths = torch.tensor([e.feats.shape[0] for e in examples])
    feats = torch.zeros(len(examples), int(lengths.max()), examples[0].feats.shape[1])
    for i, e in enumerate(examples):
        feats[i, : e.feats.shape[0]] = e.feats
    return Batch(
        [e.utt for e in examples],
        feats,
        lengths,
        torch.cat([e.targets for e in examples]),
        torch.tensor([len(e.targets) for e in examples]),
    )
