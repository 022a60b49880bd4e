import sys

from workflows.cli.entry import main

sys.exit(main())
