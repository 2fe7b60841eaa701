"""``python -m unionhub`` runs the CLI."""

import sys

from unionhub.cli import main

sys.exit(main())
