"""Shape-op cases: opset variants of Split/Slice/Squeeze/Unsqueeze/Pad, Reshape, Gather, ..."""
import numpy as np

from cases_elementwise import f, i64
from fixture import case

F = np.float32
I64 = np.int64
IMAX = np.iinfo(np.int64).max
IMIN = np.iinfo(np.int64).min


def arr(*v):
    return np.array(v, I64)


def concat_split():
    fam = "shape"
    case("concat_axis1", "Concat", [f("c1", 2, 1, 3), f("c2", 2, 2, 3)], attrs={"axis": 1}, family=fam)
    case("concat_neg_axis", "Concat", [f("c3", 2, 2), f("c4", 2, 1), f("c5", 2, 3)], attrs={"axis": -1}, family=fam)
    case("concat_int64", "Concat", [arr(1, 2), arr(3)], attrs={"axis": 0}, family=fam, out_types=[I64])
    x = f("split", 2, 6, 2)
    case("split_attr_opset11", "Split", [x], attrs={"axis": 1, "split": [1, 2, 3]}, opset=11, n_out=3, family=fam)
    case("split_equal_opset11", "Split", [x], attrs={"axis": 1}, opset=11, n_out=3, family=fam)
    case("split_input_opset13", "Split", [x], consts={"s": arr(4, 2)}, attrs={"axis": -2}, n_out=2, family=fam)
    case("split_equal_opset13", "Split", [x], attrs={"axis": 0}, n_out=2, family=fam)
    case("split_num_outputs_opset18", "Split", [f("split7", 7, 2)], attrs={"axis": 0, "num_outputs": 3},
         opset=18, n_out=3, family=fam)
    # Output names that coincide once made file names ("a/b" → a_b): infer keeps "a_b.npy" for "a_b".
    case("split_output_names", "Split", [f("splitn", 3, 4)], attrs={"axis": 1}, n_out=2, family=fam,
         out_names=["a/b", "a_b"])


def slices():
    fam = "shape"
    x = f("slice", 3, 5, 4)
    case("slice_attrs_opset9", "Slice", [x], attrs={"starts": [1, 0], "ends": [3, -1], "axes": [1, 2]},
         opset=9, family=fam)
    case("slice_attrs_noaxes_opset7", "Slice", [x], attrs={"starts": [1], "ends": [100]}, opset=7, family=fam)
    case("slice_inputs", "Slice", [x], consts={"s": arr(1, -3), "e": arr(3, IMAX), "a": arr(0, 1)}, family=fam)
    case("slice_noaxes", "Slice", [x], consts={"s": arr(0, 1), "e": arr(2, 4)}, family=fam)
    case("slice_steps", "Slice", [x], consts={"s": arr(0, 4), "e": arr(IMAX, 0), "a": arr(1, 2), "t": arr(2, -2)},
         family=fam)
    case("slice_reverse", "Slice", [x], consts={"s": arr(-1), "e": arr(IMIN), "a": arr(-2), "t": arr(-1)},
         family=fam)
    case("slice_empty", "Slice", [x], consts={"s": arr(3), "e": arr(1), "a": arr(1)}, family=fam)
    case("slice_opset10_steps", "Slice", [x], consts={"s": arr(-4), "e": arr(-1), "a": arr(2), "t": arr(1)},
         opset=10, family=fam)


def reshapes():
    fam = "shape"
    x = f("reshape", 2, 3, 4)
    case("reshape_zero_neg", "Reshape", [x], consts={"s": arr(0, -1, 2)}, family=fam)
    case("reshape_opset7", "Reshape", [x], consts={"s": arr(4, -1)}, opset=7, family=fam)
    case("reshape_allowzero", "Reshape", [np.zeros((0, 3), F)], consts={"s": arr(3, 0)},
         attrs={"allowzero": 1}, opset=14, family=fam)
    for axis in [0, 2, -1]:
        case(f"flatten_axis{axis}".replace("-", "m"), "Flatten", [x], attrs={"axis": axis}, family=fam)
    case("flatten_default_opset9", "Flatten", [x], opset=9, family=fam)
    case("transpose_default", "Transpose", [x], family=fam)
    case("transpose_perm", "Transpose", [f("tp", 2, 3, 4, 5)], attrs={"perm": [0, 2, 3, 1]}, family=fam)
    y = f("sq", 1, 3, 1, 2)
    case("squeeze_attr_opset11", "Squeeze", [y], attrs={"axes": [0, -2]}, opset=11, family=fam)
    case("squeeze_input_opset13", "Squeeze", [y], consts={"a": arr(2)}, family=fam)
    case("squeeze_all", "Squeeze", [y], family=fam)
    case("unsqueeze_attr_opset11", "Unsqueeze", [f("usq", 3, 2)], attrs={"axes": [0, 3]}, opset=11, family=fam)
    case("unsqueeze_input_opset13", "Unsqueeze", [f("usq2", 3, 2)], consts={"a": arr(-1, 1)}, family=fam)
    case("shape", "Shape", [x], family=fam, out_types=[I64])
    case("shape_start_end_opset15", "Shape", [x], attrs={"start": 1, "end": -1}, opset=15, family=fam,
         out_types=[I64])
    case("shape_start_neg_opset15", "Shape", [x], attrs={"start": -2}, opset=15, family=fam, out_types=[I64])


def pads():
    fam = "shape"
    x = f("pad", 1, 2, 3, 4)
    case("pad_attr_opset7", "Pad", [x], attrs={"pads": [0, 0, 1, 2, 0, 0, 2, 1], "value": 1.5}, opset=7, family=fam)
    case("pad_constant_opset11", "Pad", [x], consts={"p": arr(0, 1, 1, 0, 0, 0, 0, 2), "v": np.array(-1.0, F)},
         opset=11, family=fam)
    case("pad_reflect", "Pad", [x], consts={"p": arr(0, 0, 2, 3, 0, 0, 1, 2)}, attrs={"mode": "reflect"}, family=fam)
    case("pad_edge", "Pad", [x], consts={"p": arr(0, 0, 2, 1, 0, 0, 1, 3)}, attrs={"mode": "edge"}, family=fam)
    case("pad_negative", "Pad", [x], consts={"p": arr(0, 0, -1, 1, 0, 0, 0, -2)}, family=fam)
    case("pad_axes_opset18", "Pad", [x], consts={"p": arr(1, 2, 2, 0), "v": np.array(3.0, F), "a": arr(-1, 1)},
         opset=18, family=fam)
    case("pad_wrap_opset19", "Pad", [x], consts={"p": arr(0, 0, 1, 2, 0, 0, 2, 1)}, attrs={"mode": "wrap"},
         opset=19, family=fam)


def gathers():
    fam = "shape"
    x = f("gather", 4, 3, 2)
    case("gather_axis0_2d", "Gather", [x], consts={"i": np.array([[0, 3], [1, -1]], I64)}, family=fam)
    case("gather_axis1_neg", "Gather", [x], consts={"i": arr(-1, 0)}, attrs={"axis": 1}, family=fam)
    case("gather_scalar", "Gather", [x], consts={"i": np.array(2, I64)}, attrs={"axis": -1 + 1}, family=fam)
    case("gather_int32_idx", "Gather", [x], consts={"i": np.array([1, 1], np.int32)}, attrs={"axis": 2}, family=fam)
    case("gather_shape_int64", "Gather", [arr(2, 3, 5, 7)], consts={"i": np.array(2, I64)}, family=fam,
         out_types=[I64])
    case("expand", "Expand", [f("expand", 3, 1)], consts={"s": arr(2, 1, 4)}, family=fam)
    case("expand_keep", "Expand", [f("expand2", 2, 3)], consts={"s": arr(1, 1)}, family=fam)
    case("tile", "Tile", [f("tile", 2, 3)], consts={"r": arr(2, 3)}, family=fam)


def add_cases():
    concat_split()
    slices()
    reshapes()
    pads()
    gathers()
