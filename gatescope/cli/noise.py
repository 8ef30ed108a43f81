"""``gatescope noise``: noise, bursts or reverberation put into WAV files or a whole data dir."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatescope.cli.common import Parents, Subparsers, add_command, snr_value


def _noise(args: argparse.Namespace) -> int:
    from gatescope.asr.data.perturb import Burst, perturb_data_dir, perturb_files
    from gatescope.errors import ConfigError

    if (args.data is None) == (not args.wavs):
        raise ConfigError("give either WAV files or --data DATA_DIR")
    burst = Burst.parse(args.burst) if args.burst else None
    common = dict(seed=args.seed, burst=burst, active_only=args.active_only, babble_dir=args.babble_data)
    if args.data is not None:
        out = perturb_data_dir(args.data, args.out, args.noise, args.snr, progress=not args.quiet, **common)
        print(f"{out}: perturbed data dir ({args.noise}, SNR {args.snr}); run gatescope features on it")
        return 0
    for path, span in perturb_files(args.wavs, args.out, args.noise, args.snr, **common):
        print(f"{path}" + (f" burst samples {span[0]}-{span[1]}" if span else ""))
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``noise``."""
    noise = add_command(
        commands, "noise", _noise, parents=[parents.base, parents.seed, parents.quiet],
        help="add noise, bursts or reverberation to WAV files or a whole data dir",
        description="Perturb audio with gatescope.noise. NOISE is one of: white pink brown blue violet,\n"
        "babble[:TALKERS], file:PATH (a recording or a folder of them, looped), hum[:HZ], clicks[:RATE],\n"
        "reverb[:RT60|:RIR_DIR]. Additive noise is mixed at --snr dB; --burst puts a noise segment into\n"
        "each utterance instead (at --snr dB, or replacing the speech with --snr replace). With --data,\n"
        "a new Kaldi data dir is written (WAVs, tables, perturbation.json with the burst spans).",
        examples=[
            "gatescope noise --noise pink --snr 10 --data data/test --out data/test_pink10",
            "gatescope noise --noise babble --snr 5 --data data/test --out data/test_babble5",
            "gatescope noise --noise white --burst 50%:0.3 --snr replace --data data/test --out data/test_burst",
            "gatescope noise --noise file:noises/ --snr 0 a.wav b.wav --out noisy/",
            "gatescope noise --noise reverb:0.6 --data data/test --out data/test_rt60",
        ],
    )  # fmt: skip
    noise.add_argument(
        "wavs", type=Path, nargs="*", metavar="WAV",
        help="audio files to perturb (WAV, FLAC, Ogg, MP3: each written in its own container), or use --data",
    )  # fmt: skip
    noise.add_argument("--noise", required=True, help="noise type (see above)")
    noise.add_argument("--snr", type=snr_value, help="SNR in dB (or 'replace' with --burst); not for reverb")
    noise.add_argument("--burst", metavar="START:DUR", help="insert a burst: seconds, or START%%:DUR (e.g. 50%%:0.3)")
    noise.add_argument("--data", type=Path, help="a Kaldi data dir to perturb as a whole")
    noise.add_argument("--out", type=Path, required=True, help="output data dir (with --data) or folder")
    noise.add_argument("--active-only", action="store_true", help="measure the SNR on active speech only")
    noise.add_argument("--babble-data", type=Path, help="data dir whose speakers make the babble")
