"""Sub-commands of ``python -m course_lib``: one module each, discovered by :mod:`course_lib.cli`."""
