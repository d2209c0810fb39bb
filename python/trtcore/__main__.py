import sys

from trtcore.cli import main

sys.exit(main())
