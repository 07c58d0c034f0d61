"""The committed golden vectors are exactly what the real lilcom 1.8.2 package produces.

Re-runs scripts/make_golden_legacy.py into a temporary directory with PyPI lilcom installed and
compares every case with the committed files, so the vectors the Rust tests check against cannot
drift from the original, and the script that made them stays runnable.
"""

import importlib.util
import json
import os

import numpy as np
import pytest

import lilcom

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCRIPT = os.path.join(ROOT, "scripts", "make_golden_legacy.py")
GOLDEN = os.path.join(ROOT, "tests", "golden")


def load_script():
    spec = importlib.util.spec_from_file_location("make_golden_legacy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("golden")
    script = load_script()
    script.OUT_DIR = str(out)
    script.main()
    return out


@pytest.mark.parametrize("name", ["legacy_encode.json", "legacy_generated.json", "legacy_corrupt.json"])
def test_committed_vectors_match_the_original_package(regenerated, name):
    with open(os.path.join(GOLDEN, name)) as f:
        committed = json.load(f)["cases"]
    with open(os.path.join(regenerated, name)) as f:
        fresh = json.load(f)["cases"]
    assert len(committed) == len(fresh)
    for i, (a, b) in enumerate(zip(committed, fresh)):
        assert a == b, f"{name} case {i} differs from what lilcom 1.8.2 produces now"


def test_the_original_mutates_its_input_which_is_why_the_script_copies():
    # The failure BRIEF lists; if a future lilcom stops doing this, the note in the docs changes.
    x = np.linspace(0, 1, 100, dtype=np.float32) + np.float32(1 / 3000)
    before = x.copy()
    lilcom.compress(x, -4)
    assert not np.array_equal(x, before)
