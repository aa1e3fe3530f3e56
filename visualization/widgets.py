# ruff: noqa: N802  (Solara components are named like classes)
"""Small widgets of the planners' view: a chart drawn offline, Markdown drawn offline and a
parameter slider.

Every widget of the view that may appear or disappear is given a key by its parent, so
Solara never hands one control's browser widget to another (a reused slider reported its old
value as a move, white paper 5.1's city types then ran with another city's trust).
"""

from __future__ import annotations

import html
from pathlib import Path

import altair as alt
import markdown
import solara
from solara.widgets import VegaLite

from smartcity.visualization.views import ControlSpec


class LocalVegaLite(VegaLite):
    """Solara's Vega-Lite widget with the vega libraries that solara-assets ships (no CDN)."""

    template_file = str(Path(__file__).with_name("vegalite.vue"))


SHIPPED_VEGA_LITE = "https://vega.github.io/schema/vega-lite/v5.2.0.json"
"""The Vega-Lite version solara-assets ships (vegalite.vue loads it): the specification says
so, instead of Altair's newer schema, which made the browser warn at every redraw."""


MARKDOWN_CLASSES = ["solara-markdown", "rendered_html", "jp-RenderedHTMLCommon", "sc-markdown"]
"""The classes Solara's Markdown widget draws with (its table style), and the view's own."""


def markdown_html(text: str) -> str:
    """The HTML of Markdown the view writes (tables, bold), with any HTML in it escaped: a
    district or file name is shown as text, never run as markup."""
    return markdown.markdown(html.escape(text, quote=False), extensions=["tables"])


@solara.component
def Markdown(text: str, style: dict[str, str] | None = None):
    """Markdown turned into HTML on the server. Solara's own Markdown widget asks the
    browser for KaTeX (math) from a CDN that solara-assets does not ship, so every page
    logged a 404 and a script error; the view writes no math."""
    css = "; ".join(f"{key}: {value}" for key, value in (style or {}).items())
    return solara.HTML(
        tag="div", unsafe_innerHTML=markdown_html(text), style=css, classes=MARKDOWN_CLASSES
    )


@solara.component
def Chart(chart: alt.TopLevelMixin, on_click=None):
    """An Altair chart drawn in the browser; ``on_click`` gets the clicked mark's data."""
    spec = chart.to_dict(validate=False)
    spec["$schema"] = SHIPPED_VEGA_LITE
    return LocalVegaLite.element(
        spec=spec,
        on_click=on_click,
        listen_to_click=on_click is not None,
    )


def slider_move(spec: ControlSpec, shown: float, new: float) -> float | None:
    """The value a slider event sets, or None when it is not the planner's move: a slider
    snaps a value that is not on its grid and reports the snapped value, so only a move of
    at least half a step counts, and only within the slider's range."""
    try:
        new = float(new)
    except (TypeError, ValueError):
        return None
    if abs(new - shown) > spec.step / 2 + 1e-12:
        return spec.clamp(new)
    return None


@solara.component
def ParamSlider(spec: ControlSpec, value: float, on_value, overridden: bool, note: str = ""):
    """A slider labelled with the parameter's meaning, unit and value; range clamped."""
    shown = spec.clamp(value)
    text = f"{shown:,}" if spec.is_int else f"{shown:.3g}"
    mark = " (set here)" if overridden else ""

    def moved(new: float) -> None:
        value = slider_move(spec, shown, new)
        if value is not None:
            on_value(spec.key, value)

    with solara.Column(gap="0px", classes=["sc-slider", "sc-slider-" + spec.key.replace(".", "-")]):
        solara.Text(f"{spec.doc} [{spec.unit}]: {text}{mark}", style={"font-size": "0.8em"})
        solara.v.Slider(
            v_model=shown,
            on_v_model=moved,
            min=spec.lo,
            max=spec.hi,
            step=spec.step,
            dense=True,
            hide_details=True,
            thumb_label=True,
        )
        solara.Text(note or spec.key, style={"font-size": "0.7em", "color": "#777"})
