import sys

from portfolio_dbt.cli import main

sys.exit(main())
