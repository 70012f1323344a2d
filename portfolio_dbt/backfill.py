"""python -m portfolio_dbt.backfill: the old script's command, flags unchanged."""

import sys

from portfolio_dbt.cli import backfill_main

if __name__ == "__main__":
    sys.exit(backfill_main())
