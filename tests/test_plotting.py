"""helpers.plotting.roadmap: the figure of the argument's chain (notebook 00, the book's front page).

The roadmap names notebooks by id; these tests keep it in step with the notebooks on disk (a renamed or
split notebook fails here, not silently on the figure) and check that bad stages give one clear error.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import plotting  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _ids_on_disk() -> set:
    return {p.name.split("_", 1)[0] for p in NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb")}


def test_every_roadmap_notebook_exists_and_every_notebook_is_on_the_roadmap():
    named = [nb for _, _, nbs, _ in plotting.ROADMAP for nb in nbs]
    on_disk = _ids_on_disk()
    assert set(named) <= on_disk, f"the roadmap names notebooks that do not exist: {sorted(set(named) - on_disk)}"
    assert on_disk - set(named) == {"00"}, f"notebooks missing from the roadmap: {sorted(on_disk - set(named) - {'00'})}"
    assert len(named) == len(set(named)), "a notebook is named by two steps"


def test_roadmap_draws_one_box_and_one_label_per_step_in_order():
    fig = plotting.roadmap()
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    labels = [t for t in texts if t.startswith("notebook")]
    assert labels == [("notebook " if len(nbs) == 1 else "notebooks ") + ", ".join(nbs)
                      for _, _, nbs, _ in plotting.ROADMAP]
    titles = [t for t in texts if t in {s[0] for s in plotting.ROADMAP}]
    assert titles == [s[0] for s in plotting.ROADMAP]
    boxes = [p for p in ax.patches if type(p).__name__ == "FancyBboxPatch"]
    arrows = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(boxes) == len(plotting.ROADMAP) and len(arrows) == len(plotting.ROADMAP) - 1
    plt.close(fig)


def test_roadmap_snake_layout_keeps_consecutive_boxes_adjacent():
    stages = [(f"step {k}", "text", (f"{k:02d}",), "derived") for k in range(7)]
    fig = plotting.roadmap(stages, per_row=3)
    boxes = [p for p in fig.axes[0].patches if type(p).__name__ == "FancyBboxPatch"]
    xy = [(round(b.get_x(), 6), round(b.get_y(), 6)) for b in boxes]
    for (x0, y0), (x1, y1) in zip(xy, xy[1:]):
        assert (y0 == y1) != (x0 == x1), "each box is beside or below the one before it"
    assert xy[3][0] == xy[2][0] and xy[3][1] < xy[2][1]         # the row turns under its last box
    plt.close(fig)


@pytest.mark.parametrize("stages, match", [
    ([], "at least one stage"),
    ([("t", "x", ("01",))], "title, text, notebook ids, kind"),
    ([("t", "x", "01", "derived")], "tuple of ids"),
    ([("t", "x", (), "derived")], "tuple of ids"),
    ([("t", "x", ("01",), "guessed")], "kind must be one of"),
    ([("", "x", ("01",), "derived")], "title and a text"),
])
def test_roadmap_bad_stages(stages, match):
    with pytest.raises(ValueError, match=match):
        plotting.roadmap(stages)


def test_roadmap_bad_row_length():
    with pytest.raises(ValueError, match="per_row"):
        plotting.roadmap(per_row=0)
