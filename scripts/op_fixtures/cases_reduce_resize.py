"""Reduce/ArgMax/Softmax cases and Resize/Upsample cases."""
import numpy as np

from cases_elementwise import f
from fixture import case

F = np.float32
I64 = np.int64


def arr(*v):
    return np.array(v, I64)


def reduce_cases():
    fam = "reduce"
    x = f("reduce", 2, 3, 4, 2)
    for op in ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"]:
        n = op[6:].lower()
        case(f"reduce{n}_attr_opset11", op, [x], attrs={"axes": [2, 3]}, opset=11, family=fam)
        case(f"reduce{n}_nokeep_opset11", op, [x], attrs={"axes": [-1, 1], "keepdims": 0}, opset=11, family=fam)
        case(f"reduce{n}_all_opset11", op, [x], attrs={"keepdims": 0}, opset=11, family=fam)
        case(f"reduce{n}_input_opset18", op, [x], consts={"a": arr(1)}, opset=18, family=fam)
        case(f"reduce{n}_noop_opset18", op, [x], attrs={"noop_with_empty_axes": 1}, opset=18, family=fam)
        case(f"reduce{n}_empty_axes_opset18", op, [x], consts={"a": np.zeros([0], I64)}, attrs={"keepdims": 0},
             opset=18, family=fam)
    for op in ["ReduceMax", "ReduceMin"]:  # NaN: ReduceOpTests (onnxruntime keeps only a leading NaN)
        n = op[6:].lower()
        case(f"reduce{n}_zero_rows", op, [np.zeros([1, 0, 3], F)], attrs={"axes": [2]}, family=fam)
        case(f"reduce{n}_empty_axis_opset18", op, [np.zeros([2, 0], F)], consts={"a": arr(1)}, opset=18, family=fam)
    case("reducesum_input_opset13", "ReduceSum", [x], consts={"a": arr(0, 2)}, attrs={"keepdims": 0}, family=fam)
    case("reducemean_attr_opset13", "ReduceMean", [x], attrs={"axes": [1]}, opset=13, family=fam)
    ties = np.round(f("argmax", 3, 4, 2)).astype(F)
    case("argmax_axis1", "ArgMax", [ties], attrs={"axis": 1}, family=fam, out_types=[I64])
    case("argmax_nokeep_neg", "ArgMax", [ties], attrs={"axis": -1, "keepdims": 0}, family=fam, out_types=[I64])
    case("argmax_last_index", "ArgMax", [ties], attrs={"axis": 1, "select_last_index": 1}, family=fam,
         out_types=[I64])
    case("argmax_default_opset11", "ArgMax", [ties], opset=11, family=fam, out_types=[I64])
    s = f("softmax", 2, 3, 4, lo=-4, hi=4)
    for op in ["Softmax", "LogSoftmax"]:
        n = op.lower()
        case(f"{n}_default_opset11", op, [s], opset=11, family=fam)
        case(f"{n}_axis0_opset11", op, [s], attrs={"axis": 0}, opset=11, family=fam)
        case(f"{n}_axis2_opset11", op, [s], attrs={"axis": 2}, opset=11, family=fam)
        case(f"{n}_default_opset13", op, [s], family=fam)
        case(f"{n}_axis1_opset13", op, [s], attrs={"axis": 1}, family=fam)


def resize_cases():
    fam = "resize"
    x = f("resize", 1, 2, 3, 4)
    empty = np.zeros([0], F)
    up = np.array([1, 1, 2, 1.5], F)
    down = np.array([1, 1, 0.6, 0.5], F)
    case("resize10_nearest_up", "Resize", [x], consts={"s": up}, opset=10, family=fam)
    case("resize10_nearest_down", "Resize", [x], consts={"s": down}, opset=10, family=fam)
    case("resize10_linear", "Resize", [x], consts={"s": up}, attrs={"mode": "linear"}, opset=10, family=fam)
    case("resize11_nearest_default", "Resize", [x], consts={"r": empty, "s": up}, opset=11, family=fam)
    case("resize11_linear_default", "Resize", [x], consts={"r": empty, "s": up}, attrs={"mode": "linear"},
         opset=11, family=fam)
    case("resize11_sizes_nearest", "Resize", [x], consts={"r": empty, "s": empty, "z": arr(1, 2, 5, 7)},
         opset=11, family=fam)
    for cm in ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]:
        for nm in ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]:
            case(f"resize13_nearest_{cm}_{nm}", "Resize", [x], consts={"s": np.array([1, 1, 2.5, 1.75], F)},
                 inputs=["x0", "", "s"], attrs={"coordinate_transformation_mode": cm, "nearest_mode": nm},
                 family=fam)
    for cm in ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]:
        case(f"resize13_linear_{cm}_up", "Resize", [x], consts={"s": np.array([1, 1, 2, 1.5], F)},
             inputs=["x0", "", "s"], attrs={"mode": "linear", "coordinate_transformation_mode": cm}, family=fam)
        case(f"resize13_linear_{cm}_sizes", "Resize", [x], consts={"z": arr(1, 2, 2, 7)},
             inputs=["x0", "", "", "z"], attrs={"mode": "linear", "coordinate_transformation_mode": cm},
             family=fam)
    case("resize13_linear_down", "Resize", [f("resize_d", 1, 1, 6, 5)], consts={"s": np.array([1, 1, 0.5, 0.6], F)},
         inputs=["x0", "", "s"], attrs={"mode": "linear"}, family=fam)
    case("resize19_nearest_sizes", "Resize", [x], consts={"z": arr(1, 2, 1, 9)}, inputs=["x0", "", "", "z"],
         opset=19, family=fam)
    case("upsample7_nearest_attr", "Upsample", [x], attrs={"scales": [1.0, 1.0, 2.0, 3.0]}, opset=7, family=fam)
    case("upsample7_linear_attr", "Upsample", [x], attrs={"scales": [1.0, 1.0, 2.0, 2.0], "mode": "linear"},
         opset=7, family=fam)
    case("upsample9_nearest_input", "Upsample", [x], consts={"s": np.array([1, 1, 1.5, 2], F)}, opset=9, family=fam)
    case("upsample9_linear_input", "Upsample", [x], consts={"s": np.array([1, 1, 2, 1.5], F)},
         attrs={"mode": "linear"}, opset=9, family=fam)


def add_cases():
    reduce_cases()
    resize_cases()
