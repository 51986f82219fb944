import sys

from rnnkit.commands import main

sys.exit(main())
