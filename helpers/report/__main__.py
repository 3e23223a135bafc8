"""python -m helpers.report: see helpers.report.cli."""

import sys

from helpers.report.cli import main

sys.exit(main())
