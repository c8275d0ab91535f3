"""Named and anonymous volumes: ``<root>/volumes/<name>/{_data,meta.json}``.

``store`` keeps the records, ``mounts`` parses ``-v``/``--mount``/``--tmpfs``
(pure), ``plan`` turns them into container mounts at create time, ``populate``
copies image content into empty volumes at start (inside the monitor) and
``usage`` answers "who uses this volume". Standard library only: the monitor
imports ``store`` and ``populate``.
"""
