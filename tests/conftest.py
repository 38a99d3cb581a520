"""Suite-wide setup."""

import os
from pathlib import Path

# Processes the tests start (the functions server, the CLI) run with other working
# directories; an absolute data file lets coverage measure and combine them too.
os.environ.setdefault("COVERAGE_FILE", str(Path(__file__).resolve().parents[1] / ".coverage"))
