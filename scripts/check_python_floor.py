"""Exit non-zero unless this interpreter is the lowest Python that pyproject.toml promises.

CI runs the suite on this interpreter, so the promise (``requires-python``)
is only proven while the two agree.
"""

import sys
import tomllib
from pathlib import Path

promise = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"][
    "requires-python"]
running = f"{sys.version_info.major}.{sys.version_info.minor}"
if promise != f">={running}":
    sys.exit(f"pyproject.toml promises Python {promise}, but the tests run on {sys.version.split()[0]}: "
             "run CI on the lowest promised version, or change the promise")
print(f"Python {sys.version.split()[0]} is the promised floor ({promise})")
