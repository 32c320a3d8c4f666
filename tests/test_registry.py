"""One error type for every unknown public name, whichever table holds the names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deblurgan.losses import ADVERSARIAL_LOSSES, WeightedLoss
from deblurgan.models import GENERATORS, build_generator
from deblurgan.models.complexity import generator_macs
from deblurgan.models.weights import generator_weights_path, shipped_weights_path
from deblurgan.nn import get_act, get_norm
from deblurgan.registry import UnknownNameError
from deblurgan.training.module import lr_factor


@pytest.mark.parametrize(
    "lookup",
    [
        lambda: GENERATORS.get("nope"),
        lambda: ADVERSARIAL_LOSSES.build("nope"),
        lambda: build_generator("nope"),
        lambda: shipped_weights_path("nope"),
        lambda: generator_weights_path("nope"),
        lambda: generator_macs("nope"),
        lambda: WeightedLoss({"nope": 1.0}),
        lambda: get_norm("nope", 4),
        lambda: get_act("nope"),
        lambda: lr_factor(1, max_steps=10, decay="nope"),
    ],
)
def test_an_unknown_name_is_one_error_type(lookup: Callable[[], object]) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown .*'nope'") as caught:
        lookup()
    # Both of the types callers used to catch, and a message without KeyError's quotes.
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
    assert str(caught.value).startswith("unknown")
