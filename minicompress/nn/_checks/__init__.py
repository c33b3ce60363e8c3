"""Argument checks shared by the whole package.

Each raises ``TypeError``/``ValueError`` with a message naming the argument, the value
received and what was expected, so that a learner sees how to fix the call.

Modules: :mod:`.basic` (scalars and arrays), :mod:`.values` (dtypes, choices, containers,
shapes, parameter values), :mod:`.quantization` (bit widths, scales, codes).
"""

from .basic import (
    _describe,  # noqa: F401  (nn.module and formats.encoding use it)
    as_array,
    check_array,
    check_bool,
    check_finite,
    check_float,
    check_int,
    check_rng,
    described,
    first_bad,
)
from .quantization import (
    check_bits,
    check_codes,
    check_qrange,
    check_scale,
    check_weights,
    check_zero_point,
    smallest_int_dtype,
)
from .values import (
    check_callable,
    check_choice,
    check_dict,
    check_float_dtype,
    check_int_vector,
    check_names,
    check_ndarray,
    check_pair,
    check_parameter_value,
    check_same_shape,
    check_sequence,
    check_shape,
    check_str,
    check_types,
)

__all__ = [
    "as_array", "check_array", "check_int", "check_float", "check_finite", "check_rng",
    "check_bool", "check_float_dtype", "check_callable", "check_choice", "check_ndarray",
    "check_same_shape", "check_parameter_value", "check_sequence", "check_names", "check_types",
    "check_dict", "check_str", "check_shape", "check_pair", "check_int_vector", "described",
    "check_weights", "check_bits", "check_scale", "check_codes", "check_qrange", "check_zero_point",
    "smallest_int_dtype", "first_bad",
]
