"""The small SVG helpers: escaping, path data, fitting metres into pixels."""

from __future__ import annotations

from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from sapper.report.svg import Viewport, attrs, el, esc, num, path_d, point_xy


def test_escape_and_attributes() -> None:
    """Text and attribute values are escaped; underscores become dashes; None is dropped; floats rounded."""
    assert esc('<a href="x">&') == "&lt;a href=&#34;x&#34;&gt;&amp;"
    assert attrs(stroke_width=1.25, cls="a<b", fill=None) == ' stroke-width="1.2" class="a&lt;b"'
    assert el("g") == "<g/>" and el("g", "<x/>", id="a") == '<g id="a"><x/></g>'
    assert num(12.0) == "12" and num(-0.04) == "0" and num(3.14159) == "3.1"


def test_polygon_path_is_relative_rounded_and_closed() -> None:
    """A polygon with a hole becomes two closed subpaths in tenths of a pixel, duplicates dropped."""
    poly = Polygon([(0, 0), (10.04, 0), (10, 10), (0, 10)], [[(2, 2), (2.01, 2.0), (4, 2), (4, 4), (2, 4)]])
    assert path_d(poly) == "M0 0l10 0 0 10 -10 0zM2 2l2 0 0 2 -2 0z"


def test_paths_of_lines_multis_and_tiny_shapes() -> None:
    """Lines are open; multi-parts concatenate; a shape shrunk to one pixel still draws; points are skipped"""
    assert path_d(LineString([(1, 1), (3.55, 1)])) == "M1 1l2.6 0"
    assert path_d(MultiPolygon([box(0, 0, 1, 1), box(5, 5, 6, 6)])).count("M") == 2
    assert path_d(box(5, 5, 5.01, 5.01)) == "M5 5h0z"
    assert path_d(Point(1, 1)) == "" and path_d(Polygon()) == ""
    assert point_xy(Point(1, 2)) == [(1.0, 2.0)]


def test_viewport_fits_and_flips_y() -> None:
    """Metres fit the pixel box keeping the aspect ratio, centred, with north up."""
    view = Viewport((0.0, 0.0, 1000.0, 500.0), 0.0, 0.0, 200.0, 200.0)
    assert view.scale == 0.2
    assert view.xy(0.0, 500.0) == (0.0, 50.0)  # top-left, centred vertically
    assert view.xy(1000.0, 0.0) == (200.0, 150.0)
    moved = view.project([LineString([(0, 0), (1000, 500)])])[0]
    assert list(moved.coords) == [(0.0, 150.0), (200.0, 50.0)]
