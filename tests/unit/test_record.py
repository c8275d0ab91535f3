"""engine.record against the stdlib: the same class bodies under both decorators.

Deliberate differences from :mod:`dataclasses` (Python 3.13), none used by pydock:
``__doc__`` is left alone (no signature text); a class's ``__init__`` is a generic
``(*args, **kwargs)`` one until it is compiled (after ``COMPILE_AFTER`` calls, or at the
first call it cannot bind: errors are always the stdlib's); ``__eq__`` compares field
tuples (the 3.12 way: a field holding the same NaN object compares equal); ClassVar is
recognised only spelled ``ClassVar``/``typing.ClassVar``; the decorator takes eq,
frozen, kw_only and slots only (no init, repr, order, unsafe_hash, match_args,
weakref_slot), and there is no InitVar, KW_ONLY, metadata, recursive-repr guard or
abstract-method update; ``asdict`` takes no dict_factory; records are not
:func:`dataclasses.is_dataclass`, and mypy does not check ``replace()``'s keywords.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import typing
from collections import namedtuple
from types import ModuleType, SimpleNamespace
from typing import Any, ClassVar

import pytest

from engine import record

IMPLS = pytest.mark.parametrize("m", [dataclasses, record], ids=["stdlib", "record"])


@pytest.fixture(autouse=True, params=["generic-init", "compiled-init"])
def init_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: records bound by the generic __init__, and by their compiled one."""
    if request.param == "compiled-init":
        monkeypatch.setattr(record, "COMPILE_AFTER", 0)
    return str(request.param)


def shapes(m: Any) -> SimpleNamespace:
    """Every feature pydock uses, defined with ``m.dataclass``/``m.field``."""

    @m.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0
        tags: list[str] = m.field(default_factory=list, compare=False)
        note: str = m.field(default="", repr=False)

    @m.dataclass(frozen=True, kw_only=True)
    class Instr:
        keyword: ClassVar[str] = ""
        line: int
        original: str = ""
        flags: dict[str, str] = m.field(default_factory=dict, hash=False)

    @m.dataclass(frozen=True, kw_only=True)
    class Run(Instr):
        keyword = "RUN"
        command: tuple[str, ...]
        json: bool = False

    @m.dataclass
    class Mutable:
        name: str
        items: list[int] = m.field(default_factory=list)
        kind: typing.ClassVar[int] = 3

    @m.dataclass(frozen=True, slots=True)
    class Slotted:
        uid: int
        name: str = "root"

    @m.dataclass(frozen=True)
    class Checked:
        path: str
        size: int = 0

        def __post_init__(self) -> None:
            object.__setattr__(self, "path", self.path.rstrip("/") or "/")
            if self.size < 0:
                raise ValueError("negative size")

    @m.dataclass(frozen=True)
    class Base:
        a: int
        b: str = "b"

    @m.dataclass(frozen=True)
    class Child(Base):
        c: float = 1.0
        a: int = 5  # redefined: keeps its place, gains a default

    @m.dataclass(frozen=True)
    class Tree:
        name: str
        children: tuple[Any, ...] = ()
        extra: dict[str, Any] = m.field(default_factory=dict)

    @m.dataclass(frozen=True)
    class Empty:
        pass

    @m.dataclass(frozen=True)
    class One:
        v: Any

    return SimpleNamespace(**{k: v for k, v in locals().items() if isinstance(v, type)})


STD, REC = shapes(dataclasses), shapes(record)


def both(name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    return getattr(STD, name)(*args, **kwargs), getattr(REC, name)(*args, **kwargs)


def error(fn: Any) -> tuple[type, str]:
    try:
        fn()
    except Exception as err:
        return type(err), str(err)
    raise AssertionError("no exception")


def same_error(name: str, *args: Any, **kwargs: Any) -> tuple[type, str]:
    got = [error(lambda s=s: getattr(s, name)(*args, **kwargs)) for s in (STD, REC)]
    assert got[0] == got[1]
    return got[1]


def test_defaults_and_factories_per_instance() -> None:
    p, q = REC.Point(1), REC.Point(2)
    assert (p.x, p.y, p.tags, p.note) == (1, 0, [], "")
    assert p.tags is not q.tags
    assert REC.Point.y == 0 and "tags" not in REC.Point.__dict__  # as the stdlib
    assert REC.Run(line=1, command=("a",)).flags == {}


@pytest.mark.parametrize(("name", "args"), [
    ("Point", (1, 2, ["t"], "n")), ("Run", ()), ("Mutable", ("m", [1])), ("Slotted", (0,)),
    ("Child", (1, "x", 2.5)), ("Empty", ()), ("One", ("v",))])
def test_repr_text_matches(name: str, args: tuple[Any, ...]) -> None:
    kwargs = {"line": 3, "command": ("sh",), "flags": {"a": "b"}} if name == "Run" else {}
    std, rec = both(name, *args, **kwargs)
    assert repr(rec) == repr(std)


def test_eq_same_class_only_and_compare_false_ignored() -> None:
    assert REC.Point(1, 2, ["a"]) == REC.Point(1, 2, ["b"])
    assert REC.Point(1, 2) != REC.Point(1, 3)
    assert REC.Point(1) != (1, 0)
    assert REC.Point.__eq__(REC.Point(1), STD.Point(1)) is NotImplemented
    assert REC.Base(1) != REC.Child(1)  # a subclass instance is another class
    assert REC.Empty() == REC.Empty()
    nan = math.nan  # one object: tuples compare it by identity first (the stdlib: ==)
    assert REC.One(nan) == REC.One(nan) and STD.One(nan) != STD.One(nan)
    assert REC.Mutable("a", [1]) == REC.Mutable("a", [1])


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("Point", (1, 2, ["unhashable"]), {}), ("Run", (), {"line": 1, "command": ("x",)}),
    ("Empty", (), {}), ("One", ("x",), {}), ("Slotted", (7, "u"), {}), ("Child", (), {})])
def test_hash_equals_the_stdlib_hash(name: str, args: tuple[Any, ...],
                                     kwargs: dict[str, Any]) -> None:
    std, rec = both(name, *args, **kwargs)
    assert hash(rec) == hash(std)


def test_hash_rules() -> None:
    # hash=False keeps an unhashable mapping out; compare=False fields too.
    assert hash(REC.Run(line=1, command=(), flags={"k": "v"})) == hash(REC.Run(line=1, command=()))
    assert REC.Mutable.__hash__ is None and STD.Mutable.__hash__ is None
    with pytest.raises(TypeError):
        hash(REC.Mutable("a"))

    for m in (dataclasses, record):
        @m.dataclass(frozen=True)
        class Explicit:
            a: int

            def __hash__(self) -> int:
                return 42

        @m.dataclass(eq=False)
        class Identity:
            a: int

        assert hash(Explicit(1)) == 42
        assert Identity(1) != Identity(1) and hash(Identity(1)) != 42
        assert Identity.__eq__ is object.__eq__ and Identity.__hash__ is object.__hash__


@IMPLS
def test_frozen_assignment_and_deletion_raise(m: ModuleType) -> None:
    shape = shapes(m)
    p, s = shape.Point(1), shape.Slotted(1)
    for target, attr in ((p, "x"), (p, "other"), (s, "uid")):
        with pytest.raises(m.FrozenInstanceError, match=f"cannot assign to field '{attr}'"):
            setattr(target, attr, 2)
    with pytest.raises(m.FrozenInstanceError, match="cannot delete field 'x'"):
        del p.x
    assert issubclass(m.FrozenInstanceError, AttributeError)
    assert p.x == 1


def test_frozen_errors_match() -> None:
    for attr in ("x", "new"):
        got = [error(lambda s=s, a=attr: setattr(s.Point(1), a, 0)) for s in (STD, REC)]
        assert got[0][1] == got[1][1]


def test_mutable_record_assigns() -> None:
    m = REC.Mutable("a")
    m.name = "b"
    m.items.append(1)
    assert m == REC.Mutable("b", [1])


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("Run", (1,), {"command": ()}),            # kw_only: positional refused
    ("Run", (), {"command": ()}),              # missing keyword
    ("Run", (), {"line": 1}),
    ("Run", (), {"line": 1, "command": (), "bogus": 1}),
    ("Point", (), {}),                         # missing positional
    ("Point", (1, 2, [], "", 5), {}),          # too many
    ("Point", (1,), {"x": 2}),                 # twice
    ("Checked", ("/a", -1), {}),               # __post_init__ raises
])
def test_constructor_errors_match(name: str, args: tuple[Any, ...],
                                  kwargs: dict[str, Any]) -> None:
    kind, _ = same_error(name, *args, **kwargs)
    assert kind in (TypeError, ValueError)


def test_inheritance_orders_base_fields_first() -> None:
    for name in ("Run", "Child", "Point", "Mutable", "Slotted"):
        std, rec = getattr(STD, name), getattr(REC, name)
        assert [f.name for f in record.fields(rec)] == [f.name for f in dataclasses.fields(std)]
        assert rec.__match_args__ == std.__match_args__
    assert [f.name for f in record.fields(REC.Child)] == ["a", "b", "c"]
    assert REC.Child() == REC.Child(5, "b", 1.0)
    assert REC.Run.__match_args__ == ()
    assert REC.Run.keyword == "RUN" and REC.Instr.keyword == ""


def test_classvar_is_not_a_field() -> None:
    assert "keyword" not in {f.name for f in record.fields(REC.Run)}
    assert "kind" not in {f.name for f in record.fields(REC.Mutable)}
    assert REC.Mutable("a").kind == 3

    @record.dataclass
    class Evaluated:  # real annotation objects, not strings
        __annotations__ = {"a": int, "b": ClassVar[int], "c": typing.ClassVar}
        b = 1
        c = 2

    assert [f.name for f in record.fields(Evaluated)] == ["a"]


def test_match_statement() -> None:
    match REC.Point(1, 2):
        case REC.Point(x, y):
            assert (x, y) == (1, 2)
        case _:
            raise AssertionError("no match")


def test_post_init_runs_on_init_and_replace() -> None:
    c = REC.Checked("/a/")
    assert c.path == "/a"
    assert record.replace(c, path="/b//").path == "/b"
    with pytest.raises(ValueError, match="negative"):
        record.replace(c, size=-1)


def test_slots() -> None:
    std, rec = both("Slotted", 1)
    assert type(rec).__slots__ == type(std).__slots__ == ("uid", "name")
    assert not hasattr(rec, "__dict__")
    assert type(rec).__qualname__ == type(std).__qualname__
    assert "name" not in type(rec).__dict__ or not isinstance(type(rec).__dict__["name"], str)
    assert copy.copy(rec) == rec and copy.deepcopy(rec) == rec
    assert rec.__getstate__() == [1, "root"]


def test_a_base_slot_is_not_a_default() -> None:
    for shape in (STD, REC):
        @record.dataclass(frozen=True) if shape is REC else dataclasses.dataclass(frozen=True)
        class Sub(shape.Slotted):
            uid: int

        assert Sub(4).uid == 4
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'uid'"):
            Sub()


def test_replace() -> None:
    p = REC.Point(1, 2, ["t"])
    q = record.replace(p, y=5)
    assert (q.x, q.y, q.tags) == (1, 5, ["t"]) and q.tags is p.tags and p.y == 2
    assert record.replace(REC.Run(line=1, command=("a",)), json=True).json is True
    assert copy.replace(p, x=9) == REC.Point(9, 2)
    got = [error(lambda s=s: replace_of(s, nope=1)) for s in ((STD, dataclasses),
                                                              (REC, record))]
    assert got[0] == got[1]
    with pytest.raises(TypeError, match="dataclass instances"):
        record.replace(REC.Point, x=1)


def replace_of(impl: tuple[SimpleNamespace, ModuleType], **changes: Any) -> Any:
    shape, m = impl
    return m.replace(shape.Point(1), **changes)


@pytest.mark.parametrize("slots", [False, True])
def test_init_false_fields(slots: bool) -> None:
    for m in (dataclasses, record):
        @m.dataclass(slots=slots)
        class Counter:
            name: str
            hits: int = m.field(default=0, init=False)
            seen: list[str] = m.field(default_factory=list, init=False)

        c = Counter("a")
        assert (c.hits, c.seen) == (0, [])
        with pytest.raises(TypeError, match="init=False"):
            m.replace(c, hits=1)
        assert m.replace(c, name="b").name == "b"


Pair = namedtuple("Pair", "a b")


def test_fields() -> None:
    got = {f.name: (f.default, f.default_factory) for f in record.fields(REC.Point(1))}
    assert got == {"x": (record.MISSING, record.MISSING), "y": (0, record.MISSING),
                   "tags": (record.MISSING, list), "note": ("", record.MISSING)}
    assert record.fields(REC.Point) == record.fields(REC.Point(1))
    with pytest.raises(TypeError, match="dataclass type or instance"):
        record.fields(object())


def test_asdict_recurses_like_the_stdlib() -> None:
    def tree(shape: SimpleNamespace) -> Any:
        leaf = shape.Point(1, 2, ["t"])
        return shape.Tree("root", (leaf, [leaf, Pair(leaf, "x")]),
                          {"k": [leaf], "n": None, "s": {1, 2}})

    std, rec = dataclasses.asdict(tree(STD)), record.asdict(tree(REC))
    assert rec == std
    assert type(rec["children"]) is tuple and type(rec["children"][1]) is list
    assert type(rec["children"][1][1]) is Pair and rec["children"][1][1].a == {
        "x": 1, "y": 2, "tags": ["t"], "note": ""}
    source = tree(REC)
    copied = record.asdict(source)
    assert copied["children"][0]["tags"] is not source.children[0].tags
    assert copied["extra"]["s"] == {1, 2} and copied["extra"]["s"] is not source.extra["s"]
    with pytest.raises(TypeError):
        record.asdict(REC.Point)


def test_is_dataclass() -> None:
    class Plain(REC.Point):
        pass

    assert record.is_dataclass(REC.Point) and record.is_dataclass(REC.Point(1))
    assert record.is_dataclass(Plain)
    assert not record.is_dataclass(object) and not record.is_dataclass(STD.Point(1))


def test_definition_errors_match() -> None:
    def bad_default(m: Any) -> Any:
        @m.dataclass
        class Bad:
            a: list[int] = []

    def bad_order(m: Any) -> Any:
        @m.dataclass
        class Bad:
            a: int = 0
            b: str

    def bad_frozen(m: Any) -> Any:
        @m.dataclass
        class Thawed(shapes(m).Base):
            z: int = 0

    def both_defaults(m: Any) -> Any:
        return m.field(default=1, default_factory=list)

    for case in (bad_default, bad_order, bad_frozen, both_defaults):
        assert error(lambda c=case: c(dataclasses)) == error(lambda c=case: c(record)), case


def test_kw_only_base_then_positional_fields() -> None:
    for m in (dataclasses, record):
        @m.dataclass(kw_only=True)
        class Opts:
            verbose: bool = False

        @m.dataclass
        class Cmd(Opts):
            name: str  # positional after a keyword-only default: allowed

        assert Cmd("x", verbose=True).name == "x"


def test_class_body_methods_win_and_doc_is_left_alone() -> None:
    @record.dataclass(frozen=True)
    class Own:
        a: int

        def __repr__(self) -> str:
            return "own"

    assert repr(Own(1)) == "own"
    assert Own.__doc__ is None
    assert Own.__init__.__qualname__.endswith("Own.__init__")


def test_init_is_built_at_the_first_call_even_a_failing_one() -> None:
    for bad in ((), (1, 2, 3)):
        fresh = [shapes(m).Base for m in (dataclasses, record)]
        got = [error(lambda c=c, a=bad: c(*a)) for c in fresh]
        assert got[0] == got[1]
        assert fresh[1](1) == fresh[1](a=1, b="b")
    via_subclass = shapes(record)

    class Plain(via_subclass.Checked):
        pass

    assert Plain("/x/").path == "/x" and via_subclass.Checked("/y/").path == "/y"
    assert "__init__" not in Plain.__dict__


def test_self_as_field_name() -> None:
    @record.dataclass
    class Odd:
        self: int

    assert Odd(self=3).self == 3
