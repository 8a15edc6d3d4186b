"""Tests for parity.py's dump parsing (python -m pytest training/test_parity.py, or run directly)."""
import os
import struct
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity  # noqa: E402


def test_roundtrip_and_layout():
    rng = np.random.RandomState(0)
    x = rng.randn(3, 3, 4, 5).astype(np.float32)
    p = rng.rand(3, 8).astype(np.float32)
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "d.bin")
        parity.write_dump(f, x, p)
        raw = open(f, "rb").read()
        assert raw[:8] == b"MSDUMP1\0"
        assert struct.unpack_from("<5I", raw, 8) == (3, 3, 4, 5, 8)
        # first float of item 1's probabilities sits after item 0 and item 1's tensor
        off = 28 + 4 * (3 * 4 * 5 + 8) + 4 * (3 * 4 * 5)
        assert struct.unpack_from("<f", raw, off)[0] == p[1, 0]
        xi, pi = parity.read_dump(raw)
        assert np.array_equal(xi, x) and np.array_equal(pi, p)


def test_rejects_bad_input():
    for bad in (b"", b"XXDUMP1\0" + bytes(20), b"MSDUMP1\0" + struct.pack("<5I", 1, 1, 1, 1, 2) + bytes(4)):
        try:
            parity.read_dump(bad)
        except ValueError:
            continue
        raise AssertionError("accepted malformed dump")


if __name__ == "__main__":
    test_roundtrip_and_layout()
    test_rejects_bad_input()
    print("ok")
