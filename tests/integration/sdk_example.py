"""The example plugin built the way a vendor builds one: the SDK installed from
the build folder (`cmake --install --component sdk`) into a prefix, then the
example's installed sources built out of tree against that prefix alone.

Tests that load the example into plexusd use `build_example_plugin(tmp_path)`,
or the `example_plugin` fixture (import it into the test module)."""
import subprocess
from pathlib import Path

import pytest

from plexus_harness import BUILD

EXAMPLE_SOURCES = Path("share/doc/plexus-sdk/examples/example")


def run_checked(cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))}\n{r.stdout}\n{r.stderr}"
    return r


def install_sdk(prefix):
    """The SDK alone (headers, CMake package, guide, example) under `prefix`."""
    run_checked(["cmake", "--install", BUILD, "--component", "sdk", "--prefix", prefix])
    return Path(prefix)


def build_example_plugin(tmp_path):
    """plexus-example.so, with the SDK installed in tmp_path/"sdk" and the build in
    tmp_path/"example-build"; warnings are errors, as vendors may have them."""
    prefix = install_sdk(Path(tmp_path) / "sdk")
    build = Path(tmp_path) / "example-build"
    run_checked(["cmake", "-S", prefix / EXAMPLE_SOURCES, "-B", build, "-G", "Ninja",
          f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror"])
    run_checked(["cmake", "--build", build])
    return build / "plexus-example.so"


@pytest.fixture(scope="session")
def example_plugin(tmp_path_factory):
    return build_example_plugin(tmp_path_factory.mktemp("example-plugin"))
