"""python -m helpers.report: see helpers.report.cli."""

import sys

from .cli import main

sys.exit(main())
