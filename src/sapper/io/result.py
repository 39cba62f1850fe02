"""What reading a file gives: the records that passed, and the features repaired or rejected, with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from sapper.messages import Msg, msg, phrases

T = TypeVar("T")

#: A source attribute value: JSON's scalars.
SourceValue: TypeAlias = str | int | float | bool
#: A record's source attributes: the file's columns sapper does not use, by the name the file gives them.
SourceAttributes: TypeAlias = dict[str, SourceValue]


@dataclass(frozen=True, slots=True)
class ValueGap:
    """A value of a categorical field that sapper does not know and the value map does not translate, and how many
    features have it; ``required``: the field is one the import cannot do without."""

    field: str
    value: str
    count: int
    required: bool

    def __str__(self) -> str:
        return f"{self.value!r} ×{self.count}"


@dataclass(frozen=True, slots=True)
class FeatureIssue:
    """A feature repaired or rejected: its number in the file (1-based), its id if known, and why."""

    index: int
    id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"feature {self.index}" + (f" (id {self.id})" if self.id else "")
        return f"{where}: {self.reason}"

    def said(self) -> Msg:
        """The same line as a message: said in the user's language, the reason phrase by phrase."""
        if self.id:
            return msg("feature {index} (id {id}): {reason}", index=self.index, id=self.id, reason=phrases(self.reason))
        return msg("feature {index}: {reason}", index=self.index, reason=phrases(self.reason))


@dataclass(frozen=True, slots=True)
class ReadResult(Generic[T]):
    """Records read from a file (in file order), the features repaired on the way, and those rejected.

    A repaired feature is among ``records`` too. ``ignored_columns`` lists the file's columns sapper does not
    use.
    """

    records: list[T] = field(default_factory=list)
    repaired: list[FeatureIssue] = field(default_factory=list)
    rejected: list[FeatureIssue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    #: 1-based feature number in the file of each record, parallel to ``records``.
    indexes: list[int] = field(default_factory=list)
    #: Each record's source attributes (the file's columns not used), parallel to ``records``.
    attributes: list[SourceAttributes] = field(default_factory=list)
    #: What reading decided (encoding, mapped columns, ids made distinct or derived, defaults used), with counts.
    notes: list[str] = field(default_factory=list)
    #: Values of categorical fields that sapper does not know and the value map does not translate.
    gaps: list[ValueGap] = field(default_factory=list)

    @property
    def feature_count(self) -> int:
        """Features in the file: accepted plus rejected."""
        return len(self.records) + len(self.rejected)
