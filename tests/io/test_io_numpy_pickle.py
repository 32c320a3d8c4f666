"""The restricted unpickler: numpy arrays load, anything that would run code is refused."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from deblurgan.io.numpy_pickle import PickleRefusedError, load_numpy_pickle


class _RunsACommand:
    """Pickles to a call of os.system (what a hostile weight file would hold)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def test_numpy_trees_load(tmp_path: Path) -> None:
    tree = {
        "Net_0": {"Conv_0": {"kernel": np.arange(6, dtype="f4").reshape(1, 2, 3), "bias": [1.0]}},
        "steps": 3,
    }
    path = tmp_path / "w.ckpt"
    path.write_bytes(pickle.dumps(tree, protocol=3))
    loaded = load_numpy_pickle(path)
    np.testing.assert_array_equal(
        loaded["Net_0"]["Conv_0"]["kernel"], tree["Net_0"]["Conv_0"]["kernel"]
    )
    assert loaded["steps"] == 3


def test_a_pickle_that_would_run_a_command_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"kernel": _RunsACommand(f"touch {marker}")})
    assert b"system" in payload  # the payload really names os.system (posix.system)
    path = tmp_path / "evil.ckpt"
    path.write_bytes(payload)
    with pytest.raises(PickleRefusedError, match=r"refused to load the global (posix|os)\.system"):
        load_numpy_pickle(path)
    assert not marker.exists()  # nothing ran
    for hostile in (pickle.dumps(print), pickle.dumps({1, 2}), pickle.dumps(np.array([object()]))):
        with pytest.raises((PickleRefusedError, ValueError)):
            load_numpy_pickle(hostile)


def test_not_a_pickle(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a readable pickle"):
        load_numpy_pickle(b"<!DOCTYPE html>")
    with pytest.raises(ValueError, match="size limit"):
        load_numpy_pickle(pickle.dumps(np.zeros(100)), max_bytes=10)
