"""python -m portfolio_embeddings.backfill: the old script's command, flags unchanged."""

import sys

from portfolio_embeddings.cli import backfill_main

if __name__ == "__main__":
    sys.exit(backfill_main())
