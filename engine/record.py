"""Lean records: the part of :mod:`dataclasses` pydock uses, at a fraction of its cost.

``import dataclasses`` pulls inspect, ast, dis and tokenize (~9 ms), and each
``@dataclass`` compiles five or more generated methods and computes an
``inspect.signature`` for the docstring (~0.4 ms): 15-30 ms of a CLI command that
defines 20-40 of them. Here a generic ``__init__`` binds arguments until a class has
been built often enough to pay for compiling its own (one small ``exec``); ``__eq__``,
``__hash__``, ``__repr__`` and the frozen guards are shared functions that read
per-class tuples of field names. Semantics follow the stdlib of Python 3.13 for what pydock
uses; ``tests/unit/test_record.py`` lists the differences.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable, ClassVar, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")


class _Sentinel:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


MISSING: Any = _Sentinel("MISSING")
_FACTORY = _Sentinel("<factory>")  # a default_factory field's __init__ default: "not passed"


class FrozenInstanceError(AttributeError):
    pass


class Field:
    __slots__ = ("name", "type", "default", "default_factory", "init", "repr", "hash",
                 "compare", "kw_only")

    def __init__(self, default: Any, default_factory: Any, init: bool, in_repr: bool,
                 in_hash: bool | None, compare: bool, kw_only: Any) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name: str = ""
        self.type: Any = None
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.hash, self.compare = init, in_repr, in_hash, compare
        self.kw_only = kw_only

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r})"


_SLOT = type(Field.__dict__["name"])  # types.MemberDescriptorType without importing types


@overload
def field(*, default: _T, init: bool = ..., repr: bool = ..., hash: bool | None = ...,
          compare: bool = ..., kw_only: bool = ...) -> _T: ...
@overload
def field(*, default_factory: Callable[[], _T], init: bool = ..., repr: bool = ...,
          hash: bool | None = ..., compare: bool = ..., kw_only: bool = ...) -> _T: ...
@overload
def field(*, init: bool = ..., repr: bool = ..., hash: bool | None = ...,
          compare: bool = ..., kw_only: bool = ...) -> Any: ...
def field(*, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True,
          repr: bool = True, hash: bool | None = None, compare: bool = True,  # noqa: A002
          kw_only: Any = MISSING) -> Any:
    return Field(default, default_factory, init, repr, hash, compare, kw_only)


def _is_classvar(ann: Any) -> bool:
    # Annotations are strings under ``from __future__ import annotations``; the stdlib
    # resolves aliases through the module, spelling it out is enough for pydock.
    if isinstance(ann, str):
        ann = ann.strip()
        return ann in ("ClassVar", "typing.ClassVar") or ann.startswith(
            ("ClassVar[", "typing.ClassVar["))
    return ann is ClassVar or getattr(ann, "__origin__", None) is ClassVar


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    # attrgetter reads all fields in C; it returns a bare value for one name and
    # refuses none, and hashes must equal the stdlib's hash of the field tuple.
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


# Shared methods. The per-class data is read through the instance's class (never
# bound): plain functions stored on a class would become methods via the instance.
def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self.__class__.__record_cmp__
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__class__.__record_hkey__(self))


def _repr(self: Any) -> str:
    cls = self.__class__
    inner = ", ".join([f"{n}={getattr(self, n)!r}" for n in cls.__record_repr__])
    return f"{cls.__qualname__}({inner})"


def _frozen(self: Any, name: str) -> bool:
    # As the stdlib: every name on the record itself, its fields on a plain subclass.
    cls = self.__class__
    return "__record_fields__" in cls.__dict__ or name in cls.__record_names__


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    if _frozen(self, name):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _frozen_delattr(self: Any, name: str) -> None:
    if _frozen(self, name):
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


def _getstate(self: Any) -> list[Any]:  # frozen + slots: pickle/copy cannot setattr
    return [getattr(self, f.name) for f in self.__record_fields__]


def _setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(self.__record_fields__, state, strict=False):
        object.__setattr__(self, f.name, value)


# Calls a class answers with the generic __init__ before it compiles its own.
COMPILE_AFTER = 64


def _lazy_init(cls: type, flds: list[Field], frozen: bool, slots: bool) -> Any:
    # A command builds a few instances of a few dozen records (and defines many it
    # never builds: 27 Dockerfile instructions, a Dockerfile uses a few). Compiling
    # a class's own __init__ costs ~0.1 ms, more than a short-lived process saves
    # with it, so a generic one binds the arguments at first; a class built often
    # (a long-running front end) gets its compiled __init__ after COMPILE_AFTER
    # calls, and so does any call the generic one cannot bind (it then raises the
    # stdlib's exact TypeError).
    post_init = hasattr(cls, "__post_init__")
    positional = tuple(f.name for f in flds if f.init and not f.kw_only)
    accepted = frozenset(f.name for f in flds if f.init)
    plan = tuple((f.name, f.init, f.default, f.default_factory) for f in flds
                 if f.init or f.default_factory is not MISSING
                 or (slots and f.default is not MISSING))
    put = object.__setattr__ if frozen else setattr
    calls = 0

    def compiled() -> Any:
        real = _init_fn(cls, flds, frozen, slots, post_init)
        setattr(cls, "__init__", real)  # noqa: B010 - mypy refuses assigning to a method
        return real

    def __init__(self: Any, /, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > COMPILE_AFTER or len(args) > len(positional):
            compiled()(self, *args, **kwargs)
            return
        given = dict(zip(positional, args, strict=False))
        for key, value in kwargs.items():
            if key not in accepted or key in given:
                compiled()(self, *args, **kwargs)
                return
            given[key] = value
        for name, init, default, factory in plan:  # nothing is set before all is bound
            if init and name not in given and factory is MISSING and default is MISSING:
                compiled()(self, *args, **kwargs)  # a required argument is missing
                return
        for name, init, default, factory in plan:
            if init and name in given:
                put(self, name, given[name])
            elif factory is not MISSING:
                put(self, name, factory())  # in field order, as the stdlib calls them
            else:
                put(self, name, default)
        if post_init:
            self.__post_init__()
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _init_fn(cls: type, flds: list[Field], frozen: bool, slots: bool, post_init: bool) -> Any:
    # One small exec: a real signature keeps argument checks in C, with the stdlib's words.
    self = "__record_self__" if any(f.name == "self" for f in flds) else "self"
    ns: dict[str, Any] = {"_rec_FACTORY": _FACTORY, "_rec_set": object.__setattr__}
    pos: list[str] = []
    kw: list[str] = []
    body: list[str] = []
    for f in flds:
        name, value = f.name, f.name
        if f.default_factory is not MISSING:
            ns[f"_rec_f_{name}"] = f.default_factory
            value = f"_rec_f_{name}()"
            if f.init:
                value += f" if {name} is _rec_FACTORY else {name}"
        elif not f.init:
            if not slots or f.default is MISSING:
                continue  # the class attribute holds the default (none with slots)
            ns[f"_rec_d_{name}"] = f.default
            value = f"_rec_d_{name}"
        if f.init:
            param = name
            if f.default is not MISSING or f.default_factory is not MISSING:
                ns[f"_rec_d_{name}"] = f.default if f.default is not MISSING else _FACTORY
                param += f"=_rec_d_{name}"
            (kw if f.kw_only else pos).append(param)
        body.append(f"_rec_set({self}, {name!r}, {value})" if frozen
                    else f"{self}.{name} = {value}")
    if post_init:
        body.append(f"{self}.__post_init__()")
    params = ", ".join([self, *pos, *(["*", *kw] if kw else [])])
    lines = "\n ".join(body or ["pass"])
    exec(f"def __init__({params}):\n {lines}", ns)
    fn = ns["__init__"]
    fn.__qualname__ = f"{cls.__qualname__}.__init__"
    return fn


def _collect(cls: type, kw_only: bool, frozen: bool) -> list[Field]:
    found: dict[str, Field] = {}
    any_frozen, all_frozen = False, True
    record_bases = [b for b in cls.__mro__[-1:0:-1] if "__record_fields__" in b.__dict__]
    for base in record_bases:
        for f in base.__dict__["__record_fields__"]:
            found[f.name] = f
        any_frozen |= base.__dict__["__record_frozen__"]
        all_frozen &= base.__dict__["__record_frozen__"]
    if record_bases and any_frozen and not frozen:
        raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
    if record_bases and frozen and not all_frozen:
        raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    annotations = cls.__dict__.get("__annotations__", {})
    for name, ann in annotations.items():
        if _is_classvar(ann):
            continue
        default = getattr(cls, name, MISSING)
        if isinstance(default, _SLOT):  # a base's slot, not a default value
            default = MISSING
        if isinstance(default, Field):
            f = default
            if f.default is MISSING:
                delattr(cls, name)  # a factory or no default: no class attribute
            else:
                setattr(cls, name, f.default)
        else:
            f = Field(default, MISSING, True, True, None, True, MISSING)
        f.name, f.type = name, ann
        if f.kw_only is MISSING:
            f.kw_only = kw_only
        if f.default.__class__.__hash__ is None:  # list, dict, set: shared by every instance
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not "
                             "allowed: use default_factory")
        found[name] = f
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    seen_default = ""
    for f in found.values():  # checked here, as the stdlib, not at the first __init__
        if f.init and not f.kw_only:
            if f.default is not MISSING or f.default_factory is not MISSING:
                seen_default = seen_default or f.name
            elif seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument "
                                f"{seen_default!r}")
    return list(found.values())


def _set_new(cls: type, name: str, value: Any) -> None:
    if name not in cls.__dict__:  # a method written in the class body wins, as in the stdlib
        setattr(cls, name, value)


def _process(cls: type, eq: bool, frozen: bool, kw_only: bool, slots: bool) -> type:
    flds = _collect(cls, kw_only, frozen)
    names = tuple(f.name for f in flds)
    own = cls.__dict__.get("__hash__", MISSING)
    explicit_hash = not (own is MISSING or (own is None and "__eq__" in cls.__dict__))
    attrs: dict[str, Any] = {"__record_fields__": tuple(flds), "__record_frozen__": frozen,
                             "__record_names__": frozenset(names),
                             "__record_repr__": tuple(f.name for f in flds if f.repr)}
    own_init = "__init__" in cls.__dict__
    _set_new(cls, "__replace__", replace)
    _set_new(cls, "__repr__", _repr)
    if eq:
        attrs["__record_cmp__"] = _getter(tuple(f.name for f in flds if f.compare))
        _set_new(cls, "__eq__", _eq)
    if frozen:
        for name, fn in (("__setattr__", _frozen_setattr), ("__delattr__", _frozen_delattr)):
            if name in cls.__dict__:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
            setattr(cls, name, fn)
    if eq and not explicit_hash:  # as the stdlib: eq without frozen is unhashable
        hashed = tuple(f.name for f in flds if (f.compare if f.hash is None else f.hash))
        attrs["__record_hkey__"] = _getter(hashed)
        cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    _set_new(cls, "__match_args__", tuple(f.name for f in flds if f.init and not f.kw_only))
    for name, value in attrs.items():
        setattr(cls, name, value)
    if slots:
        cls = _with_slots(cls, names, frozen)
    if not own_init:  # after _with_slots: the stub installs the real __init__ on this class
        cls.__init__ = _lazy_init(cls, flds, frozen, slots)  # type: ignore[misc]
    return cls


def _with_slots(cls: type, names: tuple[str, ...], frozen: bool) -> type:
    # __slots__ only works at class creation: build the class again, as the stdlib does.
    inherited: set[str] = set()
    for base in cls.__mro__[1:-1]:
        slots = base.__dict__.get("__slots__", ())
        inherited.update((slots,) if isinstance(slots, str) else slots)
    body = dict(cls.__dict__)
    body["__slots__"] = tuple(n for n in names if n not in inherited)
    for name in (*names, "__dict__", "__weakref__"):
        body.pop(name, None)
    new = type(cls)(cls.__name__, cls.__bases__, body)
    new.__qualname__ = cls.__qualname__
    if frozen:
        _set_new(new, "__getstate__", _getstate)
        _set_new(new, "__setstate__", _setstate)
    return new


@overload
def dataclass(cls: type[_T], /) -> type[_T]: ...
@overload
def dataclass(*, eq: bool = ..., frozen: bool = ..., kw_only: bool = ...,
              slots: bool = ...) -> Callable[[type[_T]], type[_T]]: ...
@dataclass_transform(field_specifiers=(field, Field))
def dataclass(cls: Any = None, /, *, eq: bool = True, frozen: bool = False,
              kw_only: bool = False, slots: bool = False) -> Any:
    def wrap(c: type) -> type:
        return _process(c, eq, frozen, kw_only, slots)
    return wrap if cls is None else wrap(cls)


def fields(class_or_instance: Any) -> tuple[Field, ...]:
    try:
        found: tuple[Field, ...] = class_or_instance.__record_fields__
    except AttributeError:
        raise TypeError("must be called with a dataclass type or instance") from None
    return found


def is_dataclass(obj: Any) -> bool:
    return hasattr(obj if isinstance(obj, type) else type(obj), "__record_fields__")


def replace(obj: _T, /, **changes: Any) -> _T:
    if isinstance(obj, type) or not hasattr(obj, "__record_fields__"):
        raise TypeError("replace() should be called on dataclass instances")
    for f in obj.__record_fields__:
        if not f.init:
            if f.name in changes:
                raise TypeError(f"field {f.name} is declared with init=False, it cannot be "
                                "specified with replace()")
        elif f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def asdict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, type) or not hasattr(obj, "__record_fields__"):
        raise TypeError("asdict() should be called on dataclass instances")
    out: dict[str, Any] = _asdict(obj)
    return out


def _asdict(obj: Any) -> Any:
    kind = type(obj)
    if kind in (str, int, float, bool, type(None), bytes):
        return obj
    if hasattr(kind, "__record_fields__"):
        return {f.name: _asdict(getattr(obj, f.name)) for f in kind.__record_fields__}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple: positional
        return kind(*[_asdict(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return kind(_asdict(v) for v in obj)
    if isinstance(obj, dict):
        return kind((_asdict(k), _asdict(v)) for k, v in obj.items())
    import copy  # only for values that are not plain data
    return copy.deepcopy(obj)
