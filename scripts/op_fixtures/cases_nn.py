"""Conv, ConvTranspose, Gemm, MatMul, BatchNormalization, activations and pooling cases."""
import numpy as np

from cases_elementwise import f
from fixture import case

F = np.float32


def conv_cases():
    fam = "conv"
    x = f("conv", 1, 4, 5, 6)
    w = f("convw", 6, 4, 3, 3)
    b = f("convb", 6)
    case("conv_basic_pads", "Conv", [x], consts={"w": w, "b": b}, attrs={"pads": [1, 1, 1, 1]}, family=fam)
    case("conv_no_bias", "Conv", [x], consts={"w": w}, family=fam)
    case("conv_strides", "Conv", [x], consts={"w": w, "b": b}, attrs={"strides": [2, 2], "pads": [1, 0, 1, 1]},
         family=fam)
    case("conv_dilations", "Conv", [f("convd", 1, 2, 7, 7)], consts={"w": f("convdw", 3, 2, 3, 3)},
         attrs={"dilations": [2, 1], "pads": [2, 1, 2, 1]}, family=fam)
    case("conv_groups", "Conv", [x], consts={"w": f("convgw", 6, 2, 3, 3), "b": b}, attrs={"group": 2},
         family=fam)
    case("conv_depthwise", "Conv", [x], consts={"w": f("convdw2", 4, 1, 3, 3), "b": f("convdb", 4)},
         attrs={"group": 4, "pads": [1, 1, 1, 1]}, family=fam)
    case("conv_depthwise_multiplier", "Conv", [x], consts={"w": f("convdm", 8, 1, 3, 3)},
         attrs={"group": 4, "strides": [2, 2]}, family=fam)
    for ap in ["SAME_UPPER", "SAME_LOWER", "VALID"]:
        case(f"conv_autopad_{ap.lower()}", "Conv", [x], consts={"w": f("convap", 3, 4, 2, 3), "b": f("cab", 3)},
             attrs={"auto_pad": ap, "strides": [2, 2]}, family=fam)
    case("conv_1x1", "Conv", [x], consts={"w": f("conv1", 5, 4, 1, 1), "b": f("conv1b", 5)}, family=fam)
    y = f("convt", 1, 4, 3, 3)
    case("convtranspose_basic", "ConvTranspose", [y], consts={"w": f("ctw", 4, 3, 3, 3), "b": f("ctb", 3)},
         family=fam)
    case("convtranspose_strides_pads", "ConvTranspose", [y], consts={"w": f("ctw2", 4, 2, 3, 3)},
         attrs={"strides": [2, 2], "pads": [1, 1, 1, 1]}, family=fam)
    case("convtranspose_output_padding", "ConvTranspose", [y], consts={"w": f("ctw3", 4, 2, 3, 3), "b": f("ctb3", 2)},
         attrs={"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}, family=fam)
    case("convtranspose_groups", "ConvTranspose", [y], consts={"w": f("ctw4", 4, 1, 2, 2)},
         attrs={"group": 2, "strides": [2, 2]}, family=fam)
    # output_shape with an odd total padding: NOTSET and SAME_LOWER put the extra pad at the
    # start, SAME_UPPER at the end (ONNX ConvTranspose spec).
    for ap in ["NOTSET", "SAME_UPPER", "SAME_LOWER"]:
        case(f"convtranspose_output_shape_{ap.lower()}", "ConvTranspose", [y], consts={"w": f("ctw5", 4, 2, 3, 3)},
             attrs={"strides": [2, 2], "output_shape": [6, 5], "auto_pad": ap}, family=fam)
    # output_shape one past the full 7×7 (less than the stride): a last row and column of bias alone
    case("convtranspose_output_shape_beyond_full", "ConvTranspose", [y],
         consts={"w": f("ctw6", 4, 2, 3, 3), "b": f("ctb6", 2)}, attrs={"strides": [2, 2], "output_shape": [8, 8]}, family=fam)
    # two past the full 9×9 at stride 3: no pads (onnxruntime clamps the negative total at 0)
    case("convtranspose_output_shape_two_past_full", "ConvTranspose", [y],
         consts={"w": f("ctw7", 4, 2, 3, 3), "b": f("ctb7", 2)}, attrs={"strides": [3, 3], "output_shape": [11, 10]}, family=fam)


def linear_cases():
    fam = "linear"
    a, bt = f("gemma", 3, 4), f("gemmb", 4, 5)
    case("gemm_basic", "Gemm", [a], consts={"b": bt, "c": f("gemmc", 5)}, family=fam)
    case("gemm_transA", "Gemm", [f("gemmat", 4, 3)], consts={"b": bt}, attrs={"transA": 1}, family=fam)
    case("gemm_transB_alpha_beta", "Gemm", [a], consts={"b": f("gemmbt", 5, 4), "c": f("gemmc2", 3, 5)},
         attrs={"transB": 1, "alpha": 0.5, "beta": 2.0}, family=fam)
    case("gemm_bias_scalar", "Gemm", [a], consts={"b": bt, "c": f("gemmc3", 1)}, family=fam)
    case("gemm_bias_column", "Gemm", [a], consts={"b": bt, "c": f("gemmc4", 3, 1)}, attrs={"beta": -1.0},
         family=fam)
    case("gemm_opset9", "Gemm", [a], consts={"b": bt, "c": f("gemmc5", 3, 5)}, opset=9, family=fam)
    # one row or one column: the matrix-vector path (batch-1 classifier heads)
    case("gemm_row", "Gemm", [f("gemmr", 1, 4)], consts={"b": bt, "c": f("gemmc6", 5)}, family=fam)
    case("gemm_row_transB_alpha_beta", "Gemm", [f("gemmr2", 1, 6)],
         consts={"b": f("gemmbt2", 5, 6), "c": f("gemmc7", 1, 5)}, attrs={"transB": 1, "alpha": 0.5, "beta": 2.0},
         family=fam)
    case("gemm_row_transA", "Gemm", [f("gemmr3", 4, 1)], consts={"b": bt}, attrs={"transA": 1}, family=fam)
    case("gemm_column", "Gemm", [a], consts={"b": f("gemmb1", 4, 1), "c": f("gemmc8", 1)}, family=fam)
    case("gemm_column_transA_alpha", "Gemm", [f("gemmat2", 4, 3)], consts={"b": f("gemmb2", 1, 4)},
         attrs={"transA": 1, "transB": 1, "alpha": -1.5}, family=fam)
    case("matmul_2d", "MatMul", [f("mm1", 3, 4), f("mm2", 4, 2)], family=fam)
    case("matmul_batched", "MatMul", [f("mm3", 2, 3, 4), f("mm4", 4, 5)], family=fam)
    case("matmul_broadcast_batch", "MatMul", [f("mm5", 2, 1, 3, 4), f("mm6", 3, 4, 2)], family=fam)
    case("matmul_1d_lhs", "MatMul", [f("mm7", 4), f("mm8", 2, 4, 3)], family=fam)
    case("matmul_1d_rhs", "MatMul", [f("mm9", 3, 4), f("mm10", 4)], family=fam)
    bn = dict(s=f("bns", 3), b=f("bnb", 3), m=f("bnm", 3), v=f("bnv", 3, lo=0.2, hi=2))
    case("batchnorm_opset9", "BatchNormalization", [f("bn", 2, 3, 2, 2)], consts=bn, opset=9, family=fam)
    case("batchnorm_opset15_eps", "BatchNormalization", [f("bn2", 1, 3, 4)], consts=bn, attrs={"epsilon": 0.01},
         opset=15, family=fam)


def activation_cases():
    fam = "activation"
    x = f("act", 2, 3, 4, lo=-4, hi=4)
    for op in ["Relu", "Sigmoid", "Tanh"]:
        case(op.lower(), op, [x], family=fam)
    case("leakyrelu", "LeakyRelu", [x], attrs={"alpha": 0.2}, family=fam)
    case("leakyrelu_default", "LeakyRelu", [x], family=fam)
    case("prelu_channel", "PRelu", [f("prelu", 1, 3, 2, 2)], consts={"s": f("prs", 3, 1, 1)}, family=fam)
    case("prelu_scalar", "PRelu", [x], consts={"s": np.array([0.25], F)}, family=fam)
    # C == W: a slope along the last axis must not be taken for a per-channel one
    case("prelu_last_axis", "PRelu", [f("prelu_w", 2, 4, 3, 4)], consts={"s": f("prs_w", 1, 1, 4)}, family=fam)
    zero_channels = np.zeros([1, 0, 4, 4], F)
    case("prelu_zero_channels", "PRelu", [zero_channels], consts={"s": np.zeros([0, 1, 1], F)}, family=fam)
    case("batchnormalization_zero_channels", "BatchNormalization", [zero_channels],
         consts={k: np.zeros([0], F) for k in ["scale", "b", "mean", "var"]}, family=fam)
    special = np.array([[np.nan, np.inf, -np.inf, 0.5, -7.0, 7.0]], F)
    case("hardsigmoid_nan_inf", "HardSigmoid", [special], family=fam)
    case("clip_min_above_max", "Clip", [x], consts={"lo": np.array(0.7, F), "hi": np.array(-0.3, F)}, family=fam)
    case("hardsigmoid", "HardSigmoid", [x], attrs={"alpha": 0.3, "beta": 0.4}, family=fam)
    case("hardsigmoid_default", "HardSigmoid", [x], family=fam)
    case("hardswish", "HardSwish", [x], opset=14, family=fam)
    case("clip_opset7_attrs", "Clip", [x], attrs={"min": -1.0, "max": 2.0}, opset=7, family=fam)
    case("clip_opset11_both", "Clip", [x], consts={"lo": np.array(-0.5, F), "hi": np.array(1.0, F)}, opset=11,
         family=fam)
    case("clip_opset11_no_min", "Clip", [x], consts={"hi": np.array(6.0, F)}, inputs=["x0", "", "hi"], opset=11,
         family=fam)
    case("clip_opset13_no_max", "Clip", [x], consts={"lo": np.array(0.0, F)}, family=fam)
    case("clip_opset13_none", "Clip", [x], family=fam)


def pool_cases():
    fam = "pool"
    x = f("pool", 1, 2, 5, 6)
    case("maxpool_basic", "MaxPool", [x], attrs={"kernel_shape": [2, 2], "strides": [2, 2]}, family=fam)
    case("maxpool_pads", "MaxPool", [x], attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, family=fam)
    case("maxpool_ceil", "MaxPool", [x], attrs={"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1},
         family=fam)
    case("maxpool_dilations", "MaxPool", [x], attrs={"kernel_shape": [2, 2], "dilations": [2, 2]}, family=fam)
    case("maxpool_storage_order1", "MaxPool", [x], attrs={"kernel_shape": [2, 2], "storage_order": 1}, family=fam)
    for cip in [0, 1]:  # a dilated window counts its taps, not its span
        case(f"averagepool_dilations_cip{cip}", "AveragePool", [x],
             attrs={"kernel_shape": [2, 2], "dilations": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": cip},
             opset=19, family=fam)
    case("maxpool_same_upper_opset8", "MaxPool", [x], attrs={"kernel_shape": [3, 3], "strides": [2, 2],
                                                             "auto_pad": "SAME_UPPER"}, opset=8, family=fam)
    for cip in [0, 1]:
        case(f"averagepool_pads_cip{cip}", "AveragePool", [x],
             attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": cip},
             family=fam)
    case("averagepool_ceil", "AveragePool", [x], attrs={"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1},
         family=fam)
    case("averagepool_opset7", "AveragePool", [x], attrs={"kernel_shape": [2, 3]}, opset=7, family=fam)
    case("globalaveragepool", "GlobalAveragePool", [x], family=fam)
    case("globalmaxpool", "GlobalMaxPool", [x], family=fam)


def add_cases():
    conv_cases()
    linear_cases()
    activation_cases()
    pool_cases()
