"""Static explorables: Bokeh pages whose sliders swap states precomputed by ``helpers.explore``.

The book, the slides and a notebook opened without a kernel cannot run Python, but each explorable's
state space is small: ``helpers.explore.export`` computes every state of a slider grid with the same
functions the notebooks' live widgets call, and this module draws such an export with Bokeh. The page
holds the states as data; a ``CustomJS`` callback on the sliders picks the state at the sliders'
position and puts it into the plot's data sources. Nothing is computed in the browser, so what it
shows at a position is exactly what the kernel computes there.

- :func:`layout` -- the Bokeh layout (sliders, plot, a line of numbers) of one export;
- :func:`embed_html` -- an HTML fragment (a ``div`` and the document as JSON) for a page that loads
  BokehJS itself; :func:`script_tags` are the ``<script>`` tags that load it from ``prefix``;
- :func:`standalone_html` -- a complete page (BokehJS loaded from a relative folder);
- :func:`notebook_html` / :func:`show` -- the same explorable as a notebook output: in JupyterLab
  (``make lab``) its sliders move with no kernel running, BokehJS coming from the server's static
  files (:func:`lab_static_dir`, which ``make lab`` adds to them);
- :func:`copy_bokeh_js` -- BokehJS (``bokeh.min.js`` and ``bokeh-widgets.min.js``) copied from the
  ``bokeh`` wheel, never from a CDN.

Bokeh is imported inside the functions (only the book build and ``make lab`` need it).
"""
from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

from . import explore

__all__ = ["BOKEH_BUNDLES", "LAB_STATIC", "bokeh_js_names", "copy_bokeh_js", "layout", "embed_html", "script_tags",
           "notebook_html", "show", "lab_static_dir",
           "standalone_html"]

#: BokehJS bundles a static explorable needs: the core and the widgets (sliders, buttons)
BOKEH_BUNDLES = ("bokeh", "bokeh-widgets")


def bokeh_js_names() -> list[str]:
    """File names the BokehJS bundles get beside the pages (versioned, so a page never loads a mismatched one)."""
    import bokeh

    return [f"{b}-{bokeh.__version__}.min.js" for b in BOKEH_BUNDLES]


def copy_bokeh_js(dest) -> list[Path]:
    """Copy BokehJS from the installed ``bokeh`` wheel into ``dest`` (skipped when already there); return the paths."""
    import bokeh

    src = Path(bokeh.__file__).parent / "server" / "static" / "js"
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for bundle, name in zip(BOKEH_BUNDLES, bokeh_js_names()):
        f = src / f"{bundle}.min.js"
        if not f.exists():
            raise FileNotFoundError(f"{f} is missing: the bokeh wheel should ship it (pip install bokeh)")
        target = dest / name
        if not target.exists() or target.stat().st_size != f.stat().st_size:
            shutil.copyfile(f, target)
        out.append(target)
    return out


def script_tags(prefix: str) -> str:
    """``<script>`` tags loading BokehJS from ``prefix`` (a relative URL ending in ``/``)."""
    return "".join(f'<script src="{html.escape(prefix + n)}"></script>\n' for n in bokeh_js_names())


# ---------------------------------------------------------------------------------------------- controls
# The index of the state shown: row-major over the sliders, in the export's order (explore.state_at).
_INDEX_JS = """
const S = cb_obj.__course_states || (cb_obj.__course_states = JSON.parse(S_json));
function state_index() {
  let k = 0;
  for (let j = 0; j < P.length; j++) {
    const p = P[j], w = W[j];
    let i;
    if (p.labels) i = w.active;
    else if (p.check) i = w.active.length > 0 ? 1 : 0;
    else i = Math.round((w.value - p.values[0]) / (p.values[1] - p.values[0]));
    i = Math.max(0, Math.min(p.values.length - 1, i));
    k = k * p.values.length + i;
  }
  return k;
}
const st = S[state_index()];
function fmt(x, d) { return Number(x).toFixed(d); }
function expo(x) { return Number(x).toExponential(1).replace(/e([+-])(\d)$/, "e$10$2"); }   // Python's 1.0e-04
"""


def _controls(exp):
    """One widget per slider of the export (Slider, RadioButtonGroup for labelled choices, a checkbox for 0/1)."""
    from bokeh.models import CheckboxGroup, RadioButtonGroup, Slider

    widgets, params = [], []
    for p in exp["params"]:
        vals = p["values"]
        i0 = vals.index(p["default"]) if p["default"] in vals else 0
        if p.get("labels"):
            w = RadioButtonGroup(labels=p["labels"], active=i0)
            params.append({"values": vals, "labels": p["labels"]})
        elif vals == [0, 1]:
            w = CheckboxGroup(labels=[p["label"]], active=[0] if i0 else [])
            params.append({"values": vals, "check": True})
        else:
            w = Slider(start=vals[0], end=vals[-1], step=round(vals[1] - vals[0], 10), value=vals[i0],
                       title=p["label"], width=300)
            params.append({"values": vals})
        widgets.append(w)
    return widgets, params


def _wire(widgets, params, exp, code: str, **sources):
    from bokeh.models import CustomJS

    # the states travel as one JSON string (Bokeh would otherwise serialise every number as a model value: slow)
    states = json.dumps(exp["states"], separators=(",", ":"))
    cb = CustomJS(args=dict(W=widgets, P=params, S_json=states, **sources), code=_INDEX_JS + code)
    for w, p in zip(widgets, params):
        w.js_on_change("active" if (p.get("labels") or p.get("check")) else "value", cb)


def _legend_outside(p):
    """The legend beside the plot, so it never hides a state."""
    leg = p.legend[0]
    leg.label_text_font_size = "8pt"
    leg.click_policy = "hide"
    p.add_layout(leg, "right")


def _default(exp) -> dict:
    return explore.state_at(exp, **{p["name"]: p["default"] for p in exp["params"]})


def _figure(**kw):
    from bokeh.plotting import figure

    kw.setdefault("tools", "pan,wheel_zoom,reset,save")
    kw.setdefault("toolbar_location", "right")
    p = figure(**kw)
    p.toolbar.logo = None
    return p


# ---------------------------------------------------------------------------------------------- 02 hull
_HULL_LIM = 4.0


def _hull_data(st) -> dict:
    """Source data of one hull state (mirrors _HULL_JS)."""
    H, loop = st["H"], st["hull"] + st["hull"][:1]
    cone = st["cone"]
    seg = {"x0": [], "y0": [], "x1": [], "y1": []}
    if st["line"] is not None:
        (px, py), (nx, ny) = st["line"]
        L = 3 * _HULL_LIM
        seg = {"x0": [px + L * ny], "y0": [py - L * nx], "x1": [px - L * ny], "y1": [py + L * nx]}
    return {
        "pts": {"x": [h[0] for h in H], "y": [h[1] for h in H]},
        "hull": {"x": [H[i][0] for i in loop], "y": [H[i][1] for i in loop]},
        "cone": {"x": [0.0], "y": [0.0], "a0": [cone[0]], "a1": [cone[1]]} if cone else {"x": [], "y": [], "a0": [], "a1": []},
        "seg": seg,
        "path": {"x": [q[0] for q in st["path"]], "y": [q[1] for q in st["path"]]},
    }


def _hull_text(st) -> str:
    rate = f"; ||w|| grows {st['log_slope']:.2f} per unit of log t" if st["verdict"] != "converged" else ""
    margin = f" (margin {st['margin']:.2f})" if st["position"] == "outside" else ""
    return f"origin {st['position']}{margin}; gradient descent after 3,000 steps: {st['verdict']}{rate}"


_HULL_JS = """
const H = st.H, loop = st.hull.concat([st.hull[0]]);
pts.data = {x: H.map(h => h[0]), y: H.map(h => h[1])};
hull.data = {x: loop.map(i => H[i][0]), y: loop.map(i => H[i][1])};
cone.data = st.cone ? {x: [0], y: [0], a0: [st.cone[0]], a1: [st.cone[1]]} : {x: [], y: [], a0: [], a1: []};
if (st.line) {
  const px = st.line[0][0], py = st.line[0][1], nx = st.line[1][0], ny = st.line[1][1], L = 3 * LIM;
  seg.data = {x0: [px + L * ny], y0: [py - L * nx], x1: [px - L * ny], y1: [py + L * nx]};
} else seg.data = {x0: [], y0: [], x1: [], y1: []};
path.data = {x: st.path.map(q => q[0]), y: st.path.map(q => q[1])};
const rate = st.verdict != "converged" ? "; ||w|| grows " + fmt(st.log_slope, 2) + " per unit of log t" : "";
const margin = st.position == "outside" ? " (margin " + fmt(st.margin, 2) + ")" : "";
info.text = "origin " + st.position + margin + "; gradient descent after 3,000 steps: " + st.verdict + rate;
"""


def _hull_layout(exp):
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, Div

    st = _default(exp)
    data = _hull_data(st)
    src = {k: ColumnDataSource(v) for k, v in data.items()}
    lim = _HULL_LIM
    p = _figure(frame_width=400, frame_height=400, x_range=(-lim, lim), y_range=(-lim, lim),
                title="hidden states h_i, their hull, and GD's path for an unseen word")
    p.wedge(x="x", y="y", radius=3 * lim, start_angle="a0", end_angle="a1", source=src["cone"], color="#2ca02c",
            alpha=0.15, legend_label="uniformly negative directions")
    p.patch(x="x", y="y", source=src["hull"], fill_color="#1f77b4", fill_alpha=0.15, line_color="#1f77b4")
    p.scatter(x="x", y="y", source=src["pts"], size=5, color="#1f77b4", legend_label="hidden states")
    p.segment(x0="x0", y0="y0", x1="x1", y1="y1", source=src["seg"], line_dash="dotted", color="black",
              legend_label="separating line")
    p.line(x="x", y="y", source=src["path"], color="#d62728", line_width=2, legend_label="GD path of w")
    p.scatter(x=[0], y=[0], marker="cross", size=14, color="black")
    _legend_outside(p)
    info = Div(text=_hull_text(st), width=440)
    widgets, params = _controls(exp)
    _wire(widgets, params, exp, _HULL_JS, info=info, LIM=lim, **src)
    return column(*widgets, info, p)


# ---------------------------------------------------------------------------------------------- 04 rare word
def _rare_text(st) -> str:
    v = " -- vacuous: the ball contains the origin" if st["vacuous"] else ""
    return (f"eps = {st['eps']:.1e}, lambda = {st['lam']:.1e}: ||x*_eps - x*|| = {st['dist']:.3f} <= radius "
            f"{st['radius']:.3f}; ||x*|| = {st['norm_x_star']:.3f}{v}")


_RARE_JS = """
ball.data = {x: [st.x_star[0]], y: [st.x_star[1]], r: [st.radius], c: [st.vacuous ? "#d62728" : "#ff7f0e"]};
xs.data = {x: [st.x_star[0]], y: [st.x_star[1]]};
xe.data = {x: [st.x_eps[0]], y: [st.x_eps[1]]};
const v = st.vacuous ? " -- vacuous: the ball contains the origin" : "";
info.text = "eps = " + expo(st.eps) + ", lambda = " + expo(st.lam) +
  ": ||x*_eps - x*|| = " + fmt(st.dist, 3) + " <= radius " + fmt(st.radius, 3) + "; ||x*|| = " +
  fmt(st.norm_x_star, 3) + v;
"""


def _rare_layout(exp):
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, Div

    st = _default(exp)
    H, seen = exp["fixed"]["H"], exp["fixed"]["seen"]
    ball = ColumnDataSource({"x": [st["x_star"][0]], "y": [st["x_star"][1]], "r": [st["radius"]],
                             "c": ["#d62728" if st["vacuous"] else "#ff7f0e"]})
    xs = ColumnDataSource({"x": [st["x_star"][0]], "y": [st["x_star"][1]]})
    xe = ColumnDataSource({"x": [st["x_eps"][0]], "y": [st["x_eps"][1]]})
    lim = 2.2
    p = _figure(frame_width=400, frame_height=400, x_range=(-lim, lim), y_range=(-lim, lim),
                title="Theorem 3's ball around x* (red when vacuous)")
    p.circle(x="x", y="y", radius="r", source=ball, fill_color="c", fill_alpha=0.18, line_color="c")
    p.scatter([h[0] for h, s in zip(H, seen) if not s], [h[1] for h, s in zip(H, seen) if not s], size=3,
              color="#1f77b4", alpha=0.4, legend_label="contexts")
    p.scatter([h[0] for h, s in zip(H, seen) if s], [h[1] for h, s in zip(H, seen) if s], marker="square", size=7,
              color="#2ca02c", legend_label="contexts with the word")
    p.scatter(x="x", y="y", source=xs, marker="x", size=12, line_width=2, color="black", legend_label="x* (never seen)")
    p.scatter(x="x", y="y", source=xe, size=7, color="#d62728", legend_label="x*_eps (rare word)")
    p.scatter(x=[0], y=[0], marker="cross", size=14, color="black")
    _legend_outside(p)
    info = Div(text=_rare_text(st), width=440)
    widgets, params = _controls(exp)
    _wire(widgets, params, exp, _RARE_JS, ball=ball, xs=xs, xe=xe, info=info)
    return column(*widgets, info, p)


# ---------------------------------------------------------------------------------------------- 06 metrics
_BAR_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]

_METRICS_JS = """
bars.data = {x: names, top: st, c: colors, txt: st.map(v => fmt(v, 3))};
info.text = names.map((n, i) => n + " " + fmt(st[i], 3)).join(", ");
"""


def _metrics_layout(exp):
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, Div, LabelSet

    st = _default(exp)
    names = exp["metrics"]
    bars = ColumnDataSource({"x": names, "top": st, "c": _BAR_COLORS[: len(names)], "txt": [f"{v:.3f}" for v in st]})
    p = _figure(width=520, height=340, x_range=names, y_range=(-0.1, 1.12), tools="save",
                title="isotropy measures of a synthetic 2,000 x 32 cloud")
    p.vbar(x="x", top="top", width=0.7, source=bars, color="c")
    p.add_layout(LabelSet(x="x", y="top", text="txt", source=bars, text_align="center", y_offset=3,
                          text_font_size="9pt"))
    p.xaxis.major_label_orientation = 0.5
    info = Div(text=", ".join(f"{n} {v:.3f}" for n, v in zip(names, st)), width=520)
    widgets, params = _controls(exp)
    _wire(widgets, params, exp, _METRICS_JS, bars=bars, info=info, names=names, colors=_BAR_COLORS[: len(names)])
    return column(*widgets, info, p)


# ---------------------------------------------------------------------------------------------- 09 optimiser
def _opt_data(st) -> dict:
    mine, others = st["runs"], st["others"]
    return {
        "mine": {"x": [r["cos"] for r in mine], "y": [r["loss_gap"] for r in mine],
                 "context": [r["context"] for r in mine], "seed": [r["seed"] for r in mine],
                 "rank": [r["eff_rank"] for r in mine]},
        "others": {"x": [r["cos"] for r in others], "y": [r["loss_gap"] for r in others],
                   "context": [f"{r['optimizer']} / {r['context']}" for r in others], "seed": [r["seed"] for r in others],
                   "rank": [r["eff_rank"] for r in others]},
    }


def _opt_text(st, steps) -> str:
    m = st["mean"]
    if m is None:
        return f"{st['label']}: no run in this part of the record"
    return (f"{st['label']}, {len(st['runs'])} runs of {steps} steps: random-pair cosine {m['cos']:.3f}, "
            f"held-out loss {m['loss_gap']:+.3f} nats from the unigram model, effective rank {m['eff_rank']:.1f}, "
            f"common share of the drift {m['common_share']:.2f}")


_OPT_JS = """
const key = r => r.optimizer ? r.optimizer + " / " + r.context : r.context;
mine.data = {x: st.runs.map(r => r.cos), y: st.runs.map(r => r.loss_gap), context: st.runs.map(r => r.context),
             seed: st.runs.map(r => r.seed), rank: st.runs.map(r => r.eff_rank)};
others.data = {x: st.others.map(r => r.cos), y: st.others.map(r => r.loss_gap), context: st.others.map(key),
               seed: st.others.map(r => r.seed), rank: st.others.map(r => r.eff_rank)};
const all = st.runs.concat(st.others).map(r => r.loss_gap);
const lo = Math.min(...all), hi = Math.max(...all), pad = 0.05 * (hi - lo + 1e-9);
yr.start = lo - pad; yr.end = hi + pad;
const steps = STEPS[W[0].active];
const m = st.mean;
info.text = m === null ? st.label + ": no run in this part of the record" :
  st.label + ", " + st.runs.length + " runs of " + steps + " steps: random-pair cosine " + fmt(m.cos, 3) +
  ", held-out loss " + (m.loss_gap >= 0 ? "+" : "") + fmt(m.loss_gap, 3) + " nats from the unigram model, effective rank " +
  fmt(m.eff_rank, 1) + ", common share of the drift " + fmt(m.common_share, 2);
"""


def _opt_layout(exp):
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, Div, HoverTool, Span

    st = _default(exp)
    data = _opt_data(st)
    mine, others = ColumnDataSource(data["mine"]), ColumnDataSource(data["others"])
    ys = [r["loss_gap"] for r in st["runs"] + st["others"]]
    pad = 0.05 * (max(ys) - min(ys) + 1e-9)
    p = _figure(width=720, height=400, x_range=(-0.05, 1.0), y_range=(min(ys) - pad, max(ys) + pad),
                tools="pan,wheel_zoom,reset,save",
                x_axis_label="random-pair cosine of the output embeddings (the cone)",
                y_axis_label="held-out loss - unigram model's (nats)", title="every run: the cone against the fit")
    p.scatter(x="x", y="y", source=others, size=7, color="#999999", alpha=0.5, legend_label="other optimisers")
    p.scatter(x="x", y="y", source=mine, size=11, color="#d62728", legend_label="this optimiser")
    if exp.get("init") and "cos" in exp["init"]:
        p.add_layout(Span(location=exp["init"]["cos"], dimension="height", line_dash="dashed", line_color="black"))
    p.add_tools(HoverTool(tooltips=[("run", "@context, seed @seed"), ("cosine", "@x{0.000}"),
                                    ("loss - unigram", "@y{+0.000}"), ("effective rank", "@rank{0.0}")]))
    _legend_outside(p)
    info = Div(text=_opt_text(st, exp["steps"][0]), width=560)
    note = Div(text=html.escape(exp.get("source") or ""), width=560, styles={"font-size": "85%", "color": "#555"})
    widgets, params = _controls(exp)
    _wire(widgets, params, exp, _OPT_JS, mine=mine, others=others, info=info, STEPS=exp["steps"], yr=p.y_range)
    return column(*widgets, info, p, note)


_LAYOUTS = {"02_hull": _hull_layout, "04_rare_word": _rare_layout, "06_metrics_disagree": _metrics_layout,
            "09_optimizer_cone": _opt_layout}


def layout(exp: dict):
    """The Bokeh layout of static explorable ``exp`` (an export of ``helpers.explore``, or its name)."""
    if isinstance(exp, str):
        exp = explore.read_export(exp)
    if not isinstance(exp, dict) or exp.get("name") not in _LAYOUTS:
        raise ValueError(f"not a static explorable export (name one of {sorted(_LAYOUTS)}): {str(exp)[:80]}")
    return _LAYOUTS[exp["name"]](exp)


def _document_json(exp: dict, target_id: str) -> str:
    """The Bokeh document of ``exp`` as JSON for a ``<script type="application/json">`` (``</`` escaped)."""
    from bokeh.embed import json_item

    return json.dumps(json_item(layout(exp), target_id), separators=(",", ":")).replace("</", "<\\/")


def _no_script(exp: dict) -> str:
    return html.escape(f"Static explorable '{exp['title']}': it needs JavaScript (BokehJS).")


def embed_html(exp: dict, target_id: str | None = None, js_prefix: str | None = None) -> str:
    """An HTML fragment that draws ``exp``: a ``div``, the Bokeh document as JSON, and the call that embeds it.

    The page must load BokehJS first: pass ``js_prefix`` (a relative URL of the folder holding
    :func:`bokeh_js_names`) to put the ``<script>`` tags in the fragment itself.
    """
    if isinstance(exp, str):
        exp = explore.read_export(exp)
    target_id = target_id or f"explorable-{exp['name']}"
    item, fallback = _document_json(exp, target_id), _no_script(exp)
    return ((script_tags(js_prefix) if js_prefix is not None else "")
            + f'<div id="{target_id}" class="course-explorable" data-explorable="{exp["name"]}">'
            + f'<noscript>{fallback}</noscript></div>\n'
            + f'<script type="application/json" id="{target_id}-doc">{item}</script>\n'
            + "<script>(function () { var el = document.getElementById(" + json.dumps(target_id + "-doc")
            + "); if (window.Bokeh) { Bokeh.embed.embed_item(JSON.parse(el.textContent)); }"
            # arrow keys on a focused slider move the slider, not the slide deck or the page around it
            + " document.getElementById(" + json.dumps(target_id) + ").addEventListener('keydown',"
            + " function (e) { e.stopPropagation(); }); })();</script>\n")


def standalone_html(exp: dict, js_prefix: str) -> str:
    """A complete HTML page with the explorable (BokehJS from ``js_prefix``, relative to the page)."""
    if isinstance(exp, str):
        exp = explore.read_export(exp)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(exp['title'])}</title>\n{script_tags(js_prefix)}</head>\n<body>\n"
            f"<h3>{html.escape(exp['title'])}</h3>\n{embed_html(exp)}</body></html>\n")


# ---------------------------------------------------------------------------------------------- notebooks
#: The folder under a Jupyter server's ``static/`` URL that holds BokehJS for notebook outputs (``make lab``
#: passes ``--ServerApp.extra_static_paths`` = the parent of :func:`lab_static_dir`).
LAB_STATIC = "course-bokehjs"

# A notebook output's loader: find the output's own div (beside this script: ids may repeat when a notebook is
# open twice), load BokehJS once per page from the Jupyter server's static files, then embed the document.
_NOTEBOOK_JS = """(function () {
  var me = document.currentScript, names = NAMES, sub = SUB;
  var box = me && me.parentNode ? me.parentNode.querySelector('.course-explorable') : document.getElementById(ID);
  var note = box && box.parentNode ? box.parentNode.querySelector('.course-explorable-note') : null;
  var doc = box && box.parentNode ? box.parentNode.querySelector('script.course-explorable-doc') : null;
  function say(t) { if (note) { note.textContent = t; } }
  if (!box || !doc) { return; }
  function embed() { box.textContent = ''; window.Bokeh.embed.embed_item(JSON.parse(doc.textContent), box); say(''); }
  if (window.Bokeh && window.Bokeh.version === VERSION && window.Bokeh.Widgets) { embed(); return; }
  var cfg = document.getElementById('jupyter-config-data'), base = null;
  try { base = JSON.parse(cfg.textContent).baseUrl || '/'; } catch (e) { base = null; }
  if (base === null) { say(NO_SERVER); return; }
  if (!window.__courseBokeh) {
    window.__courseBokeh = names.reduce(function (p, n) {
      return p.then(function () { return new Promise(function (ok, fail) {
        var s = document.createElement('script'); s.src = base + 'static/' + sub + '/' + n;
        s.onload = ok; s.onerror = function () { fail(s.src); }; document.head.appendChild(s); }); });
    }, Promise.resolve());
  }
  window.__courseBokeh.then(embed, function (src) { window.__courseBokeh = null; say(NOT_SERVED.replace('SRC', src)); });
})();"""


def lab_static_dir(root) -> Path:
    """``root/course-bokehjs`` with BokehJS copied from the bokeh wheel: serve ``root`` as extra static files
    (``jupyter lab --ServerApp.extra_static_paths='["ROOT"]'``, as ``make lab`` does)."""
    d = Path(root) / LAB_STATIC
    copy_bokeh_js(d)
    return d


def notebook_html(exp: dict) -> str:
    """An HTML fragment that shows ``exp`` as a notebook output whose sliders move without a kernel.

    The output loads BokehJS from the Jupyter server it is opened in (``static/course-bokehjs/``, served by
    ``make lab``) and says in one line what to do where that is missing (another server, a viewer without
    one, an untrusted notebook -- JupyterLab runs an output's scripts only in a trusted notebook).
    """
    import bokeh

    if isinstance(exp, str):
        exp = explore.read_export(exp)
    target = f"explorable-{exp['name']}"
    item, fallback = _document_json(exp, target), _no_script(exp)
    js = _NOTEBOOK_JS
    for key, value in (("NAMES", bokeh_js_names()), ("SUB", LAB_STATIC), ("ID", target), ("VERSION", bokeh.__version__),
                       ("NO_SERVER", "These sliders need BokehJS from a Jupyter server: open the notebook with "
                                     "`make lab`, or see the course's book."),
                       ("NOT_SERVED", "Could not load BokehJS from SRC: start JupyterLab with `make lab` (it serves "
                                      "BokehJS from the bokeh wheel), or see the course's book.")):
        js = js.replace(key, json.dumps(value))
    return (f'<div class="course-explorable-output">'
            f'<div id="{target}" class="course-explorable" data-explorable="{exp["name"]}">'
            f'<noscript>{fallback}</noscript></div>\n'
            f'<div class="course-explorable-note" style="font-size: 0.85em; opacity: 0.8"></div>\n'
            f'<script type="application/json" class="course-explorable-doc">{item}</script>\n'
            f'<script>{js}</script></div>\n')


class _Shown:
    def __init__(self, exp):
        self.exp = exp

    def _repr_html_(self):
        return notebook_html(self.exp)

    def __repr__(self):
        return (f"Static explorable '{self.exp['title']}' ({len(self.exp['states'])} precomputed states): its sliders "
                "move without a kernel in JupyterLab (make lab) and in the book")


def show(name_or_path):
    """Display static explorable ``name_or_path`` (an export of ``helpers.explore``) as a notebook output."""
    return _Shown(explore.read_export(name_or_path))
