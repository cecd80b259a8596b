"""helpers.static_explorable: the Bokeh page of a static explorable holds exactly the exported states.

The browser side (moving a slider swaps the state shown) is checked in a real browser by the book's
browser test; here: every export draws, the states its callback swaps in are the export's, BokehJS comes
from the installed wheel, and bad input gets one clear error.
"""
from __future__ import annotations

import json

import pytest

from helpers import explore, static_explorable as se

NAMES = ["02_hull", "04_rare_word", "06_metrics_disagree", "09_optimizer_cone"]


def _plain(x):
    """Bokeh's serialised form -> plain JSON (maps become dicts)."""
    if isinstance(x, dict):
        if x.get("type") == "map":
            return {k: _plain(v) for k, v in x.get("entries", [])}
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def _callback_args(item):
    """The args of every CustomJS in a json_item."""
    found = []

    def walk(x):
        if isinstance(x, dict):
            if x.get("name") == "CustomJS":
                found.append(_plain(x["attributes"]["args"]))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(item)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_page_holds_the_exported_states(name):
    from bokeh.embed import json_item

    exp = explore.read_export(name)
    args = _callback_args(json.loads(json.dumps(json_item(se.layout(exp), "t"))))
    assert args and all(json.loads(a["S_json"]) == json.loads(json.dumps(exp["states"])) for a in args)
    html = se.embed_html(exp, "t-id", js_prefix="../_static/bokeh/")
    assert 'id="t-id"' in html and html.count("<script src=") == len(se.BOKEH_BUNDLES)
    assert "https://" not in html and "http://" not in html      # nothing fetched from the network
    assert "</script>" not in html.split('type="application/json"')[1].split("</script>")[0][1:]


def test_bokeh_js_is_copied_from_the_wheel(tmp_path):
    paths = se.copy_bokeh_js(tmp_path)
    assert [p.name for p in paths] == se.bokeh_js_names()
    assert all(p.stat().st_size > 100_000 for p in paths)
    page = se.standalone_html("04_rare_word", "js/")
    assert '<script src="js/bokeh-' in page and "explorable-04_rare_word" in page


@pytest.mark.parametrize("name", NAMES)
def test_notebook_output_loads_bokehjs_from_the_jupyter_server(name, tmp_path, monkeypatch):
    shown = se.show(name)
    assert repr(shown).startswith("Static explorable '") and "precomputed states" in repr(shown)
    html = shown._repr_html_()
    assert f'data-explorable="{name}"' in html and "<script src=" not in html   # BokehJS: loaded by the script
    assert "https://" not in html and "http://" not in html
    assert f"'static/' + sub + '/' + n" in html and json.dumps(se.LAB_STATIC) in html
    assert json.dumps(se.bokeh_js_names()) in html and "jupyter-config-data" in html
    doc = html.split('class="course-explorable-doc">')[1].split("</script>")[0]
    assert json.loads(doc)["target_id"] == f"explorable-{name}"          # the document, intact
    assert "make lab" in html                                           # what to do where BokehJS is missing
    d = se.lab_static_dir(tmp_path)
    # another figures folder (a portability run): the committed export is shown; an unknown name is one clear error
    from pathlib import Path

    monkeypatch.setenv("COURSE_FIGURES_DIR", str(tmp_path / "figs"))
    assert not (explore.exports_dir() / f"{name}.json").exists()
    committed = Path(se.__file__).resolve().parents[1] / "figures" / "explorables" / f"{name}.json"
    assert se.show(name).exp == explore.read_export(name) == explore.read_export(committed)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        se.show("no_such_explorable")
    assert d.name == se.LAB_STATIC and sorted(p.name for p in d.iterdir()) == sorted(se.bokeh_js_names())


@pytest.mark.parametrize("bad", [{}, {"name": "nope"}, "nope"])
def test_bad_export_gets_one_clear_error(bad):
    with pytest.raises((ValueError, FileNotFoundError)):
        se.layout(bad)


def test_live_explorable_draws_the_default_state_and_redraws_on_change():
    import ipywidgets as widgets
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import live_explorable

    calls = []

    def draw(k=1):
        calls.append(k)
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot(range(k + 1))
        return fig

    s = widgets.IntSlider(value=1, min=1, max=3, description="a long label")
    box = live_explorable(draw, {"k": s})
    image = box.children[-1]
    first = bytes(image.value)
    assert calls == [1] and first[:8] == b"\x89PNG\r\n\x1a\n" and not plt.get_fignums()   # drawn once, figure closed
    s.value = 3
    assert calls == [1, 3] and bytes(image.value) != first
    assert s.style.description_width == "initial" and box.layout.align_items == "flex-start"
    with pytest.raises(ValueError):
        live_explorable(draw, {})
    with pytest.raises(ValueError):
        live_explorable("not a function", {"k": s})
