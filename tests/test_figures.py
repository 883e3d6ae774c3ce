"""figures.show: a figure with a Korean caption and alt text in its output metadata, stored small."""
from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from dldna_helpers import figures  # noqa: E402


def landscape():
    """A contour plot with a small red marker: the colours a palette must not lose."""
    x, y = np.meshgrid(np.linspace(-1, 1, 200), np.linspace(-1, 1, 200))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.contourf(x, y, x**2 + 3 * y**2 + 0.5 * x * y, levels=30, cmap="viridis")
    ax.plot([0.1], [0.2], "r*", markersize=12)
    return fig


def test_show_puts_caption_and_alt_in_the_output_metadata(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw, metadata: shown.append((data, metadata)))
    figures.show(landscape(), caption="손실 등고선", alt="최솟값 근처의 손실 등고선: 빨간 별이 (0.1, 0.2)")
    (data, metadata), = shown
    assert metadata == {"image/png": {"caption": "손실 등고선", "alt": "최솟값 근처의 손실 등고선: 빨간 별이 (0.1, 0.2)"}}
    with Image.open(io.BytesIO(base64.b64decode(data["image/png"]))) as image:
        assert round(image.info["dpi"][0]) == figures.FIGURE_DPI
    assert plt.get_fignums() == []   # closed: the inline backend does not draw it again


@pytest.mark.parametrize("caption, alt, message", [
    ("", "설명", "caption"), ("손실", None, "alt"), ("loss curve", "설명", "Korean"),
    ("손실", "손실_곡선.png", "not name a file")])
def test_show_refuses_figures_without_words(caption, alt, message):
    fig = landscape()
    with pytest.raises(ValueError, match=message):
        figures.show(fig, caption=caption, alt=alt)
    plt.close(fig)


def test_palette_png_is_smaller_and_keeps_every_colour_that_shows():
    fig = landscape()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    original = buffer.getvalue()
    compact = figures.compact_png(original)
    assert len(compact) < 0.6 * len(original)
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(compact)) as b:
        before, after = np.asarray(a.convert("RGB"), dtype=int), np.asarray(b.convert("RGB"), dtype=int)
        assert b.mode == "P" and round(b.info["dpi"][0]) == 120
    red = (before[..., 0] > 200) & (before[..., 1] < 60) & (before[..., 2] < 60)
    assert red.sum() > 20 and np.abs(after[red] - before[red]).max() <= figures.MAX_PALETTE_ERROR


def test_transparent_or_many_coloured_images_are_left_as_they_are():
    rgba = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    assert figures.compact_png(buffer.getvalue()) == buffer.getvalue()
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert figures.compact_png(buffer.getvalue()) == buffer.getvalue()   # a palette would show
