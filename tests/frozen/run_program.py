"""Run a program given on the command line and exit with its exit code.

For the frozen app's keyring test: `tests.fixtures.keyring_dbus` runs a Python module inside its
D-Bus session, and this module is how a non-Python program (the frozen binary) runs there.
"""

import subprocess
import sys

if __name__ == "__main__":
    sys.exit(subprocess.run(sys.argv[1:], check=False).returncode)
