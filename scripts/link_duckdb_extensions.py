"""Lay out DuckDB extensions shipped as PyPI packages where DuckDB looks for them.

DuckDB loads an installed extension from
    <extension_directory>/v<duckdb version>/<platform>/<name>.duckdb_extension
and the PyPI package duckdb-extension-postgres-scanner ships the (signed) binary under
its own package folder without the platform level. This links it into that layout
under .duckdb_extensions/ so the profiles can set extension_directory to it and
DuckDB never tries to download anything (autoinstall_known_extensions: false).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

PACKAGES = {"postgres_scanner": "duckdb_extension_postgres_scanner"}


def link(target_dir: Path) -> list[Path]:
    version = duckdb.__version__
    platform = duckdb.sql("pragma platform").fetchone()[0]
    linked = []
    for name, package in PACKAGES.items():
        module = __import__(package)
        shipped = next(Path(module.__file__).parent.rglob(f"{name}.duckdb_extension"))
        destination = target_dir / f"v{version}" / platform / f"{name}.duckdb_extension"
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.is_symlink() or destination.exists():
            destination.unlink()
        destination.symlink_to(shipped.resolve())
        linked.append(destination)
    return linked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=".duckdb_extensions", type=Path)
    args = parser.parse_args()
    for path in link(args.dir):
        print(f"linked {path}")


if __name__ == "__main__":
    main()
