import sys

from portfolio_embeddings.cli import main

sys.exit(main())
