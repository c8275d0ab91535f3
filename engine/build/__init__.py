"""Building images from Dockerfiles.

Parsing is split the way BuildKit splits it, one concept per module:

- :mod:`.lexer` reads physical lines into logical ones (directives from
  :mod:`.directives`, continuations, comments, heredoc bodies via :mod:`.heredoc`);
- :mod:`.nodes` cuts one logical line into keyword, flags and arguments;
- :mod:`.instructions` validates each node into the typed tree of :mod:`.ast`
  (flags and durations in :mod:`.flags`), and :mod:`.parser` groups the
  instructions into stages;
- :mod:`.expand` substitutes variables at build time, with the word lexer of
  :mod:`.shellwords`;
- :mod:`.dockerignore` decides which context files the build may see.

Building (``Engine.images_build``, :mod:`engine.api_build`) is split the same way:
:mod:`.session` (context, worker thread, events) → :mod:`.builder` (stages,
ARGs, parallelism) → :mod:`.stagebuild` (FROM, ONBUILD) → :mod:`.dispatch` (one
instruction; config rules in :mod:`.state`) → the file steps :mod:`.step_run`
(a container: :mod:`.runstep`, :mod:`.mounts`) and :mod:`.step_copy` (COPY, ADD,
WORKDIR: :mod:`.transfer`, :mod:`.context`, :mod:`.owners`, :mod:`.fetch`),
whose upper dirs become layers in :mod:`.layers` through overlays of
:mod:`.overlay`, keyed and remembered by :mod:`.cache`; :mod:`.export` writes
the image.
"""

from __future__ import annotations

from .ast import Dockerfile, Instruction, Stage
from .dockerignore import DockerIgnore
from .expand import Expanded, expand_instruction, expand_word
from .parser import parse_dockerfile, parse_file

__all__ = ["DockerIgnore", "Dockerfile", "Expanded", "Instruction", "Stage",
           "expand_instruction", "expand_word", "parse_dockerfile", "parse_file"]
