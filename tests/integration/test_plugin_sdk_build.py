"""The SDK as vendors get it: `cmake --install --component sdk` alone, then the
example plugin built out of tree against it, exporting one symbol and a
descriptor of the SDK's ABI."""
import ctypes
import re
import subprocess
from pathlib import Path

import pytest

from sdk_example import build_example_plugin, run_checked

SOURCE_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sdk")
    plugin = build_example_plugin(tmp)
    return tmp / "sdk", plugin


def installed_abi(prefix):
    header = (prefix / "include/plexus/plugin.h").read_text()
    return tuple(int(re.search(rf"#define PLEXUS_ABI_{part} (\d+)", header).group(1)) for part in ("MAJOR", "MINOR"))


def test_the_sdk_component_installs_headers_package_guide_and_example_only(built):
    prefix, _ = built
    files = {str(p.relative_to(prefix)) for p in prefix.rglob("*") if p.is_file()}
    assert files == {
        "include/plexus/plugin.h",
        "include/plexus/plugin.hpp",
        "lib/cmake/PlexusSDK/PlexusSDKConfig.cmake",
        "lib/cmake/PlexusSDK/PlexusSDKConfigVersion.cmake",
        "lib/cmake/PlexusSDK/PlexusSDKTargets.cmake",
        "lib/cmake/PlexusSDK/PlexusPlugin.cmake",
        "lib/cmake/PlexusSDK/plexus-plugin.map",
        "share/doc/plexus-sdk/README.md",
        "share/doc/plexus-sdk/examples/example/CMakeLists.txt",
        "share/doc/plexus-sdk/examples/example/ExamplePlugin.cpp",
    }
    for name in files:
        assert str(SOURCE_ROOT) not in (prefix / name).read_text(), f"{name} points into the source tree"


def test_the_example_builds_against_the_installed_sdk_alone(built):
    _, plugin = built
    assert plugin.is_file()
    assert str(SOURCE_ROOT) not in (plugin.parent / "build.ninja").read_text()


def test_the_example_exports_its_entry_point_and_nothing_else(built):
    _, plugin = built
    r = run_checked(["nm", "-D", "--defined-only", plugin])
    assert [line.split()[-1] for line in r.stdout.splitlines()] == ["plexus_plugin_entry"]


class Descriptor(ctypes.Structure):
    """plexus_plugin_descriptor of ABI 1.0."""
    _fields_ = [("struct_size", ctypes.c_uint32), ("abi_major", ctypes.c_uint16), ("abi_minor", ctypes.c_uint16),
                ("name", ctypes.c_char_p), ("version", ctypes.c_char_p), ("description", ctypes.c_char_p),
                ("capabilities", ctypes.c_uint64), ("init", ctypes.c_void_p), ("shutdown", ctypes.c_void_p)]


def test_the_example_descriptor_names_it_and_the_sdk_abi(built):
    prefix, plugin = built
    entry = ctypes.CDLL(str(plugin)).plexus_plugin_entry
    entry.restype = ctypes.POINTER(Descriptor)
    descriptor = entry().contents
    assert descriptor.struct_size == ctypes.sizeof(Descriptor)
    assert (descriptor.abi_major, descriptor.abi_minor) == installed_abi(prefix)
    assert descriptor.name == b"example"
    assert descriptor.version == b"1.0.0"
    assert descriptor.capabilities == 1 << 1  # PLEXUS_CAP_MESSAGE_HOOK
    assert descriptor.init and descriptor.shutdown


@pytest.mark.parametrize("wanted, found", [("1.0", True), ("2.0", False)])
def test_the_package_matches_the_abi_major(built, tmp_path, wanted, found):
    prefix, _ = built
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(probe LANGUAGES NONE)\n"
        f"find_package(PlexusSDK {wanted} REQUIRED)\n")
    r = subprocess.run(["cmake", "-S", tmp_path, "-B", tmp_path / "build", f"-DCMAKE_PREFIX_PATH={prefix}"],
                       capture_output=True, text=True, timeout=120)
    assert (r.returncode == 0) == found, r.stderr
