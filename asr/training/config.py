"""The flat training configuration (conf/*.yaml): model, data, optimisation and trainer settings in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gatescope.asr.features.cmvn import CMVN_MODES
from gatescope.asr.models.acoustic import ModelConfig
from gatescope.asr.models.cells import KINDS
from gatescope.asr.tokens import TARGETS
from gatescope.config import COUNT, NONNEGATIVE, PROBABILITY, Range, check_ranges
from gatescope.errors import ConfigError, InputError
from gatescope.noise import TRIM_FLOOR_DB, AugmentConfig


@dataclass(frozen=True)
class TrainConfig(ModelConfig):
    """Every training setting, flat (conf/*.yaml). Model fields come from :class:`ModelConfig`."""

    # data
    train_dir: str = "data/train"
    valid_dir: str = "data/dev"
    target: str = "phones"  # "phones" (48 TIMIT phones, scored on 39), "words" or "chars" (words spelled, with |)
    cmvn: bool = True
    cmvn_mode: str = "speaker"  # "speaker" (Kaldi's per-speaker stats), "utterance" or "sliding" (causal, 6 s)
    norm_vars: bool = True
    # per-speaker CMVN of an augmented utterance: its speaker's statistics shifted as the augmentation (noise,
    # channel, speed, warp) shifted its own, as online CMVN sees a speaker through a noise; false: the clean ones
    cmvn_tracks_augmentation: bool = False
    batch_size: int = 16
    num_workers: int = 0
    skip_bad_utterances: bool = False
    # multi-condition training (gatescope.noise, on the fly; needs wav.scp): share of utterances mixed with one
    # of noise_types (comma-separated noise specs) at an SNR drawn from [noise_snr_min, noise_snr_max] dB
    noise_prob: float = 0.0
    noise_types: str = "white,pink,babble"
    noise_snr_min: float = 0.0
    noise_snr_max: float = 20.0
    # more augmentation on the fly (also recomputes features from the audio, seeded the same way)
    speed_factors: str = ""  # e.g. "0.9,1.0,1.1": one drawn per utterance (Kaldi's speed perturbation)
    channel_prob: float = 0.0  # share of utterances through a random channel (band-limit, tilt, high-pass, level)
    vtlp_max: float = 0.0  # vocal-tract length perturbation: fbank warp uniform in [1 - vtlp_max, 1 + vtlp_max]
    trim_prob: float = 0.0  # share of utterances whose leading/trailing silence is cut to a random part of it
    # where the trim finds the speech's edges: a floor uniform in [min, max] dB under the loudest 10 ms; under the
    # default 35 the cut goes into weak consonants, as clips cut by an energy threshold are (FSDD's, about 20 dB)
    trim_floor_db_min: float = TRIM_FLOOR_DB
    trim_floor_db_max: float = TRIM_FLOOR_DB
    # share of utterances given exact digital zeros (0 to zeros_max_s each) before and after, as a muted or virtual
    # microphone sends: the front end's dither makes them a floor far below any recording's, which the model must know
    zeros_prob: float = 0.0
    zeros_max_s: float = 2.0
    # share of utterances replaced by audio with no speech in it (zeros, or quiet white or pink noise) and an empty
    # transcript: a model that emits a word before it has heard one is then wrong
    nonspeech_prob: float = 0.0
    # share of utterances made up to level_mismatch_db louder or quieter (uniform) than their speaker's CMVN
    # statistics say, as a stream's first words are while online CMVN's prior (the training statistics) outweighs
    # them and the microphone's level differs (README "Digits"); works on the stored features, no audio needed
    level_mismatch_prob: float = 0.0
    level_mismatch_db: float = 0.0
    # optimisation
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str = "plateau"  # "plateau" (on val_loss), "cosine" or "constant"
    lr_factor: float = 0.5
    lr_patience: int = 2
    grad_clip: float = 5.0
    max_epochs: int = 20
    # the model a run leaves (averaged.ckpt, which decoding loads before best.ckpt): the mean of the weights at the
    # end of the last average_epochs epochs, as icefall's --avg; 0 or 1: best.ckpt, the lowest validation error
    average_epochs: int = 0
    # SpecAugment-style masking (0 width: off)
    freq_masks: int = 2
    freq_mask_width: int = 0
    time_masks: int = 2
    time_mask_width: int = 0
    # trainer
    seed: int = 0
    accelerator: str = "auto"
    devices: str = "auto"  # "auto", a count ("2") or a list ("0,1")
    num_nodes: int = 1
    strategy: str = "auto"  # e.g. "ddp" for multi-GPU / multi-node
    precision: str = "32-true"  # "16-mixed" / "bf16-mixed" for mixed precision
    log_every_n_steps: int = 10
    progress_bar: bool = True

    def augment_config(self) -> AugmentConfig:
        """The multi-condition training settings as gatescope.noise takes them (InputError for bad ones)."""
        try:
            speeds = tuple(float(f) for f in self.speed_factors.split(",") if f)
            return AugmentConfig(
                self.noise_prob,
                tuple(t for t in self.noise_types.split(",") if t),
                self.noise_snr_min,
                self.noise_snr_max,
                speeds,
                self.channel_prob,
                self.vtlp_max,
                self.trim_prob,
                self.zeros_prob,
                self.zeros_max_s,
                self.nonspeech_prob,
                self.trim_floor_db_min,
                self.trim_floor_db_max,
            )
        except ValueError as err:
            raise InputError(f"noise augmentation: {err}") from None

    RANGES: ClassVar[dict[str, Range]] = {
        **ModelConfig.RANGES,
        "batch_size": COUNT,
        "num_workers": Range(0, 256),
        "noise_prob": PROBABILITY,
        "noise_snr_min": Range(-50, 100),
        "noise_snr_max": Range(-50, 100),
        "channel_prob": PROBABILITY,
        "vtlp_max": Range(0, 0.2),
        "trim_prob": PROBABILITY,
        "trim_floor_db_min": Range(0, 120, low_open=True),
        "trim_floor_db_max": Range(0, 120, low_open=True),
        "zeros_prob": PROBABILITY,
        "zeros_max_s": Range(0, 60),
        "nonspeech_prob": PROBABILITY,
        "level_mismatch_prob": PROBABILITY,
        "level_mismatch_db": Range(0, 60),
        "lr": Range(0, 10, low_open=True),
        "weight_decay": Range(0, 10),
        "lr_factor": Range(0, 1, low_open=True),
        "lr_patience": Range(0, 10000),
        "grad_clip": NONNEGATIVE,
        "max_epochs": Range(1, 1_000_000),
        "average_epochs": Range(0, 1000),
        "freq_masks": Range(0, 100),
        "freq_mask_width": Range(0, 1000),
        "time_masks": Range(0, 100),
        "time_mask_width": Range(0, 10000),
        "seed": Range(0, 2**32 - 1),
        "num_nodes": COUNT,
        "log_every_n_steps": COUNT,
    }

    def __post_init__(self) -> None:
        check_ranges(self)
        checks = {
            "target": TARGETS,
            "lr_schedule": ("plateau", "cosine", "constant"),
            "cell": KINDS,
            "gru_formulation": ("cudnn", "cho"),
            "cmvn_mode": CMVN_MODES,
        }
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        self.augment_config()
