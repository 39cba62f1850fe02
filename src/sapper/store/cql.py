"""CQL2 (parsed by pygeofilter) translated to SQLAlchemy expressions, for both backends.

OGC API – Features Part 3 filters run in the database: comparison, ``LIKE``, ``IN``, ``BETWEEN``, ``IS NULL``,
``AND``/``OR``/``NOT``, and the spatial ``S_INTERSECTS`` and ``S_WITHIN``. PostGIS evaluates the spatial predicates
itself (``ST_Intersects``/``ST_Within``, GiST-indexed); on SQLite, Python functions of the same names (registered on
every connection by ``gpkg.register_functions``) test GeoPackage blobs with shapely, and on a table with an R-tree the
literal's envelope first narrows the rows through the index. A property that is not queryable is refused with a
ValidationError naming it (a 400 in the API).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from lark import Lark
from pygeofilter import ast
from pygeofilter import values as gvalues
from pygeofilter.parsers.cql2_text import parser as cql2_text
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary, and_, bindparam, false, func, literal, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from sapper.errors import Fault, ValidationError

#: Builds the prefilter of a spatial predicate from the literal's envelope (minx, miny, maxx, maxy), or None.
Prefilter = Callable[[tuple[float, float, float, float]], ColumnElement[bool] | None]


class FilterError(ValidationError):
    """A CQL2 filter that cannot be parsed or names a property the collection does not have (HTTP 400)."""

    code = "invalid_filter"
    http_status = 400


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """pygeofilter's CQL2-text grammar with one fix: ``NOT (condition)``, as CQL2 allows and GDAL sends (pygeofilter
    0.3.3 accepts ``NOT`` only before a bare predicate)."""
    grammar_path = Path(cql2_text.__file__).with_name("grammar.lark")
    grammar = grammar_path.read_text(encoding="utf-8")
    fixed = grammar.replace('| "NOT"i predicate                                               -> not_',
                            '| "NOT"i predicate                                               -> not_\n'
                            '            | "NOT"i "(" condition ")"                                       -> not_')
    if fixed == grammar:  # a later pygeofilter changed the grammar: use its own parser as it is
        return cql2_text.parser  # type: ignore[no-any-return]
    return Lark(fixed, parser="lalr", maybe_placeholders=False, transformer=cql2_text.CQLTransformer(),
                import_paths=[str(grammar_path.parent.parent)])


def parse(text: str) -> ast.AstType:
    """The AST of a CQL2-text filter; FilterError with the parser's reason when it is not CQL2."""
    try:
        return _parser().parse(text)
    except Exception as exc:  # lark raises several exception types, none of them sapper's
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FilterError("filter", [Fault("filter", f"not CQL2 text: {reason}", "filter")]) from None


class Translator:
    """Turns a pygeofilter AST into a boolean SQL expression over ``columns`` (queryable name → column)."""

    def __init__(self, columns: Mapping[str, ColumnElement[Any]], geometry: ColumnElement[Any] | None, *,
                 dialect: str, prefilter: Prefilter | None = None) -> None:
        self.columns = columns
        self.geometry = geometry
        self.dialect = dialect
        self.prefilter = prefilter

    def __call__(self, node: ast.AstType) -> ColumnElement[bool]:
        return self._node(node)

    def _refuse(self, reason: str, field: str = "filter") -> FilterError:
        return FilterError("filter", [Fault("filter", reason, field)])

    def _attribute(self, node: object) -> ColumnElement[Any]:
        if not isinstance(node, ast.Attribute):
            raise self._refuse(f"expected a property name, found {node!r}")
        if node.name in ("geom", "geometry") and self.geometry is not None:
            return self.geometry
        if node.name not in self.columns:
            raise self._refuse(
                f"unknown property {node.name!r} (queryables: {', '.join(sorted(self.columns))})", node.name)
        return self.columns[node.name]

    def _value(self, node: object) -> Any:
        if isinstance(node, ast.Function) and node.name.lower() in ("date", "timestamp") and node.arguments:
            text = str(node.arguments[0])
            try:
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise self._refuse(f"not a date: {text!r}") from None
            return parsed.date() if node.name.lower() == "date" else parsed
        if isinstance(node, bool | int | float | str | dt.date):
            return node
        raise self._refuse(f"unsupported value {node!r}")

    def _geometry_literal(self, node: object) -> BaseGeometry:
        if isinstance(node, gvalues.Geometry | gvalues.Envelope):
            return shape(node.geometry)
        if isinstance(node, ast.Function) and node.name.lower() == "bbox" and len(node.arguments) == 4:
            x1, y1, x2, y2 = (float(a) for a in node.arguments)
            return shapely.box(x1, y1, x2, y2)
        raise self._refuse(f"expected a geometry literal, found {node!r}")

    def _spatial(self, node: ast.GeometryIntersects | ast.GeometryWithin) -> ColumnElement[bool]:
        column = self._attribute(node.lhs)
        if column is not self.geometry:
            raise self._refuse("the first argument of a spatial predicate must be the geometry")
        geom = self._geometry_literal(node.rhs)
        name = "ST_Intersects" if isinstance(node, ast.GeometryIntersects) else "ST_Within"
        wkb = bytes(shapely.to_wkb(geom, output_dimension=2))
        param = bindparam(None, wkb, type_=LargeBinary(), unique=True)
        if self.dialect == "postgresql":
            test: ColumnElement[bool] = getattr(func, name)(column, func.ST_GeomFromWKB(param, 4326))
        else:
            test = getattr(func, name)(column, param) == 1
        pre = self.prefilter(tuple(geom.bounds)) if self.prefilter is not None and not geom.is_empty else None
        return test if pre is None else and_(pre, test)

    def _node(self, node: object) -> ColumnElement[bool]:
        if isinstance(node, ast.And):
            return and_(self._node(node.lhs), self._node(node.rhs))
        if isinstance(node, ast.Or):
            return or_(self._node(node.lhs), self._node(node.rhs))
        if isinstance(node, ast.Not):
            return not_(self._node(node.sub_node))
        if isinstance(node, ast.Include):
            return false() if node.not_ else true()
        if isinstance(node, ast.Comparison):
            column = self._attribute(node.lhs)
            value = self._value(node.rhs)
            return {  # type: ignore[no-any-return]
                ast.ComparisonOp.EQ: column == value, ast.ComparisonOp.NE: column != value,
                ast.ComparisonOp.LT: column < value, ast.ComparisonOp.LE: column <= value,
                ast.ComparisonOp.GT: column > value, ast.ComparisonOp.GE: column >= value,
            }[node.op]
        if isinstance(node, ast.Like):
            column = self._attribute(node.lhs)
            pattern = node.pattern
            if node.singlechar != "_":
                pattern = pattern.replace("_", "\\_").replace(node.singlechar, "_")
            test = (func.lower(column).like(func.lower(literal(pattern)), escape="\\") if node.nocase
                    else column.like(pattern, escape="\\"))
            return not_(test) if node.not_ else test
        if isinstance(node, ast.In):
            column = self._attribute(node.lhs)
            found = column.in_([self._value(v) for v in node.sub_nodes])
            return not_(found) if node.not_ else found
        if isinstance(node, ast.Between):
            column = self._attribute(node.lhs)
            found = column.between(self._value(node.low), self._value(node.high))
            return not_(found) if node.not_ else found
        if isinstance(node, ast.IsNull):
            column = self._attribute(node.lhs)
            return column.is_not(None) if node.not_ else column.is_(None)
        if isinstance(node, ast.GeometryIntersects | ast.GeometryWithin):
            return self._spatial(node)
        raise self._refuse(f"unsupported CQL2 construct {type(node).__name__}")
