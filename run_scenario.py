#!/usr/bin/env python3
"""cogsim command line: parses the arguments and calls the library (see model/cli/main.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model.cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
