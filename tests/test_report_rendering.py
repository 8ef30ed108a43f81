"""Both HTML reports as a reader opens them: every image resolves to a real picture, no path of this machine is
shown, and (where Chromium is installed) the browser itself decodes every image."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatescope.analysis.memory.analyze import AnalysisConfig, run_analysis
from gatescope.analysis.robustness.conditions import RobustnessConfig
from gatescope.analysis.robustness.evaluate import run_robustness

from .html_check import check_report, chromium, chromium_image_states, png_size


@pytest.fixture(scope="module")
def reports(tiny_models: list[Path], tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A small robustness report and a small memory-analysis report of the tiny models."""
    root = tmp_path_factory.mktemp("reports")
    robustness = RobustnessConfig(noises=("white",), snrs=("clean", "10"), bursts=True, burst_dur_s=0.2)
    run_robustness(
        tiny_models, tiny_data / "test", root / "robustness", robustness, tiny_data / "train", progress=False
    )
    analysis = AnalysisConfig(
        forgetting_utterances=2, burst_noises=("white",), burst_snrs=("replace",), burst_positions=(0.3,),
        burst_dur_s=0.2, horizon_ms=400, sample_units=8,
    )  # fmt: skip
    run_analysis(tiny_models, tiny_data / "test", root / "analysis", analysis, tiny_data / "train", progress=False)
    return [root / "robustness" / "report.html", root / "analysis" / "report.html"]


def test_every_image_resolves_and_no_machine_path_shows(reports: list[Path], tiny_data: Path) -> None:
    for report in reports:
        machine = [str(report.parent.parent), str(tiny_data), str(Path.home()) + "/"]
        assert check_report(report, machine) >= 4, report


def test_the_check_catches_a_broken_image_and_a_machine_path(reports: list[Path], tmp_path: Path) -> None:
    html = reports[0].read_text()
    broken = tmp_path / "broken.html"
    broken.write_text(html.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1))
    with pytest.raises((AssertionError, ValueError)):
        check_report(broken, [])
    pathed = tmp_path / "pathed.html"
    pathed.write_text(html.replace("</body>", f"<p>{tmp_path}</p></body>"))
    with pytest.raises(AssertionError, match="path of this machine"):
        check_report(pathed, [str(tmp_path)])
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a")


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (make test installs it as root)")
def test_chromium_decodes_every_image(reports: list[Path], tmp_path: Path) -> None:
    for k, report in enumerate(reports):
        work = tmp_path / str(k)
        work.mkdir()
        states = chromium_image_states(report, work)
        assert states and states == ["true"] * check_report(report, []), (report, states)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "report.html").write_text('<html><body><img src="missing.png"></body></html>')
    assert chromium_image_states(broken / "report.html", broken) == ["false"], "the browser check can fail"
