"""Write ``pydock``'s console script as a launcher that skips ``site`` (``make`` runs this).

pip's console script starts the interpreter in full: ``site`` finds the venv,
reads every ``.pth`` file (setuptools' own imports ``_distutils_hack``) and
looks for ``sitecustomize``, ~2-4 ms of every ``pydock`` command. The launcher
runs the same entry point under ``python -I -S`` with the import path that
``site`` would have built, computed once here, at install time:

    python -m app.cli.launcher .venv/bin/pydock

``-I`` also ignores ``PYTHON*`` variables and the user's site directory, as a
system tool should. Re-run after the venv or the checkout moves (``make`` does,
whenever it reinstalls).
"""

from __future__ import annotations

import os
import subprocess
import sys

ENTRY = "app.cli.main:run"


def site_paths(python: str) -> list[str]:
    """The entries ``site`` adds to ``sys.path`` for ``python`` (site-packages, .pth lines)."""
    def path_of(*flags: str) -> list[str]:
        out = subprocess.run([python, *flags, "-c", "import sys; print('\\0'.join(sys.path))"],
                             capture_output=True, text=True, check=True, cwd="/")
        return out.stdout.rstrip("\n").split("\0")

    bare = set(path_of("-I", "-S"))
    return [p for p in path_of("-I") if p and p not in bare]


def script(python: str, paths: list[str]) -> str:
    module, func = ENTRY.split(":")
    return (f"#!{python} -IS\n"
            f"# Made by app/cli/launcher.py: {ENTRY} without site's start-up work.\n"
            "import sys\n"
            f"sys.path += {paths!r}\n"
            f"from {module} import {func}\n"
            f"sys.exit({func}())\n")


def install(target: str, python: str = sys.executable) -> bool:
    """Replace ``target`` with the launcher; False (target untouched) if it would not work.

    An editable install that finds the package through an import hook, rather
    than a path in a ``.pth`` file, is invisible without ``site``.
    """
    paths = site_paths(python)
    module = ENTRY.split(":")[0]
    probe = subprocess.run([python, "-IS", "-c", f"import sys; sys.path += {paths!r}; "
                                                 f"import {module}"],
                           capture_output=True, cwd="/")
    if probe.returncode != 0:
        return False
    text = script(python, paths)
    tmp = f"{target}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, target)
    return True


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m app.cli.launcher PATH-OF-THE-PYDOCK-SCRIPT")
    if not install(sys.argv[1]):
        print(f"{sys.argv[1]}: kept pip's script (the package is not importable without site)")
