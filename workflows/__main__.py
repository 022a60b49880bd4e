import sys

from workflows.cli.main import main

sys.exit(main())
