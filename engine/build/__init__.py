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
"""

from __future__ import annotations

from .ast import Dockerfile, Instruction, Stage
from .dockerignore import DockerIgnore
from .expand import Expanded, expand_instruction, expand_word
from .parser import parse_dockerfile, parse_file

__all__ = ["DockerIgnore", "Dockerfile", "Expanded", "Instruction", "Stage",
           "expand_instruction", "expand_word", "parse_dockerfile", "parse_file"]
