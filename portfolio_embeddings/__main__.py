import sys

from portfolio_embeddings.cli import main

if __name__ == "__main__":  # not when a spawned child process imports it
    sys.exit(main())
