"""gatescope.noise: noise sources, SNR mixing, burst insertion, stream perturbation and training augmentation
(speed, channel, noise): a pure signal library.

Imports nothing from gatescope.asr or gatescope.analysis. Waveforms are float32 ``(samples,)`` or
``(batch, samples)`` tensors in [-1, 1], on any device.
"""

from gatescope.noise.augment import (
    AugmentConfig,
    AugmentDraws,
    Augmented,
    apply_augmentation,
    augment,
    augmented_length,
    draw_augmentation,
    nonspeech,
)
from gatescope.noise.bank import KINDS, NoiseBank, NoiseSpec
from gatescope.noise.burst import burst_frames, insert_burst
from gatescope.noise.channel import (
    TRIM_FLOOR_DB,
    Channel,
    band_limit,
    frame_levels_db,
    highpass,
    random_channel,
    span_of_levels,
    speech_span,
    speed_perturb,
    speed_perturbed_length,
    tilt,
    trim_bounds,
    trim_silence,
)
from gatescope.noise.colored import colored
from gatescope.noise.mixing import active_mask, mix, snr_db
from gatescope.noise.reverb import reverberate, synthetic_rir
from gatescope.noise.sources import babble, clicks, file_noise, hum, load_noise_files
from gatescope.noise.stream import BurstSchedule, StreamPerturber

__all__ = [
    "KINDS",
    "TRIM_FLOOR_DB",
    "AugmentConfig",
    "AugmentDraws",
    "Augmented",
    "BurstSchedule",
    "Channel",
    "NoiseBank",
    "NoiseSpec",
    "StreamPerturber",
    "active_mask",
    "apply_augmentation",
    "augment",
    "augmented_length",
    "babble",
    "band_limit",
    "burst_frames",
    "clicks",
    "colored",
    "draw_augmentation",
    "file_noise",
    "frame_levels_db",
    "highpass",
    "hum",
    "insert_burst",
    "load_noise_files",
    "mix",
    "nonspeech",
    "random_channel",
    "reverberate",
    "snr_db",
    "span_of_levels",
    "speech_span",
    "speed_perturb",
    "speed_perturbed_length",
    "synthetic_rir",
    "tilt",
    "trim_bounds",
    "trim_silence",
]
