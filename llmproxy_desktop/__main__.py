"""`python -m llmproxy_desktop`, and the entry script of the frozen (PyInstaller) build."""

import sys

from llmproxy_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
