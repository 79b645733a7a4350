"""Container entrypoint: a thin shim into the package (GitHub runs this in the action's container)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from qodo_review.action import main

if __name__ == "__main__":
    sys.exit(main())
