"""How a ``twinloop`` command body runs: bad input becomes exit code 2, torch gets its thread count.

Every subcommand follows the same contract: a problem with what the user gave (a missing run
folder, a corrupt checkpoint, an output folder that already holds a run) is printed as one line
``twinloop: <message naming the file>`` on stderr and the command exits with :data:`EXIT_USAGE`;
anything else is a bug and keeps its traceback. :func:`guard` is that contract in one place, so
the command modules only say *which* error types are the user's.
"""
from __future__ import annotations

import sys
from typing import Callable

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_INTERRUPTED", "guard", "set_torch_threads",
           "torch_threads"]

# The exit codes of every subcommand (one place, so scripts can rely on them).
EXIT_OK = 0
EXIT_FAILURE = 1        # the work itself failed (a task raised, a model did not train)
EXIT_USAGE = 2          # bad arguments, configuration or input files: the message names which
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, the shell convention)


def guard(work: Callable[[], int], user_errors: tuple[type[BaseException], ...]) -> int:
    """Run ``work()``; an exception of a type in ``user_errors`` becomes a one-line message and exit 2."""
    try:
        return work()
    except user_errors as exc:
        sys.stderr.write(f"twinloop: {exc}\n")
        return EXIT_USAGE


def set_torch_threads(n: int | None) -> None:
    """Give torch ``n`` CPU threads; ``None`` or 0 keeps torch's own choice (all cores)."""
    if n:
        import torch

        torch.set_num_threads(int(n))


def torch_threads() -> int:
    """The CPU threads torch uses now (for a run's recorded budget)."""
    import torch

    return torch.get_num_threads()
