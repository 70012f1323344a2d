"""One `dbt run` (dbtRunner) in a child process started in the project folder.

In the project folder, because the profile's relative paths (the DuckDB file) are
relative to it, wherever the command was typed. In a child process, because dbt-duckdb
keeps its DuckDB connection open for the life of the process: the summary that follows
opens the same files read-only, which DuckDB refuses while this process holds them.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DbtOutcome:
    success: bool
    error: str = ""  # one line, when dbt raised or a node failed
    statuses: dict[str, int] = field(default_factory=dict)  # node status -> count


def invoke(args: list[str], project_dir: Path) -> DbtOutcome:
    """dbt `args` in a child process; dbt's own output goes to this process's console."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(args, str(project_dir), sender))
    child.start()
    sender.close()
    try:
        outcome = receiver.recv()
    except EOFError:  # the child died before it could answer
        outcome = None
    finally:
        child.join()
    if outcome is None:
        return DbtOutcome(False, f"dbt stopped without a result (exit code {child.exitcode})")
    return outcome


def _child(args: list[str], project_dir: str, sender) -> None:
    from dbt.cli.main import dbtRunner

    os.chdir(project_dir)
    try:
        result = dbtRunner().invoke(args)
        statuses: dict[str, int] = {}
        failed = []
        for node in getattr(result.result, "results", None) or []:
            status = str(node.status)
            statuses[status] = statuses.get(status, 0) + 1
            if status in ("error", "fail", "runtime error"):
                failed.append(f"{node.node.name}: {one_line(node.message)}")
        error = "; ".join(failed) or (one_line(result.exception) if result.exception else "")
        outcome = DbtOutcome(bool(result.success), error, statuses)
    except BaseException as err:  # whatever it is, the parent must hear of it
        outcome = DbtOutcome(False, f"{type(err).__name__}: {one_line(err)}")
    sys.stdout.flush()
    sender.send(outcome)
    sender.close()


def one_line(message) -> str:
    """dbt's message on one line; of a Python traceback in it, only the error itself.

    >>> one_line("Runtime Error in model m\\n  Python model failed:\\n  Traceback (most recent "
    ...          "call last):\\n    File x, line 1\\n  ValueError: bad\\n")
    'Runtime Error in model m Python model failed: ValueError: bad'
    """
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if starts:
        lines = lines[: starts[0]] + lines[-1:]
    return " ".join(lines)
