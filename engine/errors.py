"""Every error the engine raises on purpose.

Front ends catch :class:`EngineError` and nothing narrower; its ``str()`` is one
line a user can read, and ``title`` is a short heading for a dialog.

    EngineError
    ├── NotFound
    │   ├── ImageNotFound            (ref)
    │   ├── BlobNotFound             (digest)
    │   └── ContainerNotFound        (ref)
    ├── AlreadyExists
    ├── InvalidArgument
    │   ├── InvalidReference         (ref, reason)
    │   ├── InvalidLayer             (entry, reason)
    │   ├── InvalidArchive
    │   └── DockerfileError          (file, line, text, reason)
    ├── Conflict                     (the resource is in the wrong state or in use)
    │   └── ImageInUse               (image_id, users)
    ├── DigestMismatch               (expected, actual)
    ├── PermissionDenied
    │   └── Unauthorized             (registry, code: the registry refused the credentials)
    ├── Unavailable                  (the host lacks a feature or a resource is busy)
    └── RegistryError                (registry, status, code: any other registry failure)
        └── RemoteNotFound           (manifest/blob/name unknown on the registry)

Foreign errors (``OSError``, ``tarfile.TarError``, httpx, netlink) are translated
once, at each subsystem's boundary, with ``raise ... from err``.
"""

from __future__ import annotations


class EngineError(Exception):
    """Root of the engine's errors: one readable line, plus a dialog title."""

    default_title = "Error"

    def __init__(self, message: str, *, title: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.title = title or self.default_title

    def __str__(self) -> str:
        return self.message


class NotFound(EngineError):
    default_title = "Not found"


class AlreadyExists(EngineError):
    default_title = "Already exists"


class InvalidArgument(EngineError):
    default_title = "Invalid argument"


class Conflict(EngineError):
    default_title = "Conflict"


class PermissionDenied(EngineError):
    default_title = "Permission denied"


class Unavailable(EngineError):
    default_title = "Unavailable"


class DigestMismatch(EngineError):
    """Content did not hash to the digest it was announced with."""

    default_title = "Digest mismatch"

    def __init__(self, expected: str, actual: str, *, what: str = "blob") -> None:
        super().__init__(f"{what} digest mismatch: expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class ImageNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"No such image: {ref}")
        self.ref = ref


class BlobNotFound(NotFound):
    def __init__(self, digest: str) -> None:
        super().__init__(f"blob {digest} not found in the content store")
        self.digest = digest


class ContainerNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"No such container: {ref}")
        self.ref = ref


class InvalidReference(InvalidArgument):
    def __init__(self, ref: str, reason: str) -> None:
        shown = ref if len(ref) <= 80 else ref[:77] + "..."
        super().__init__(f"invalid reference format {shown!r}: {reason}")
        self.ref = ref
        self.reason = reason


class InvalidLayer(InvalidArgument):
    """A layer tar that cannot be unpacked safely; names the offending entry."""

    def __init__(self, entry: str, reason: str) -> None:
        shown = entry if len(entry) <= 120 else entry[:117] + "..."
        super().__init__(f"invalid layer entry {shown!r}: {reason}")
        self.entry = entry
        self.reason = reason


class InvalidArchive(InvalidArgument):
    pass


class ImageInUse(Conflict):
    def __init__(self, image_id: str, users: list[str], *, ref: str = "") -> None:
        who = ", ".join(users[:3]) + (" ..." if len(users) > 3 else "")
        super().__init__(
            f"unable to remove {ref or image_id[:19]}: image is being used by container {who}"
            " (use --force)"
        )
        self.image_id = image_id
        self.users = users


class Unauthorized(PermissionDenied):
    """The registry refused the request: no, wrong or insufficient credentials."""

    default_title = "Unauthorized"

    def __init__(self, message: str, *, registry: str = "", code: str = "") -> None:
        super().__init__(message)
        self.registry = registry
        self.code = code


class RegistryError(EngineError):
    """A registry answered with an error, or could not be reached."""

    default_title = "Registry error"

    def __init__(self, message: str, *, registry: str = "", status: int = 0,
                 code: str = "") -> None:
        super().__init__(message)
        self.registry = registry
        self.status = status
        self.code = code


class RemoteNotFound(RegistryError):
    """The registry does not have the manifest, blob or repository asked for."""

    default_title = "Not found"


class DockerfileError(InvalidArgument):
    """A Dockerfile that cannot be parsed; names the file, the line and its text."""

    default_title = "Dockerfile error"

    def __init__(self, file: str, line: int, text: str, reason: str) -> None:
        first = text.strip().splitlines()[0] if text.strip() else ""
        shown = first if len(first) <= 100 else first[:97] + "..."
        super().__init__(f"{file}:{line}: {reason}" + (f": {shown}" if shown else ""))
        self.file = file
        self.line = line
        self.text = text
        self.reason = reason
