"""Constant, ConstantOfShape, Cast, Identity, Dropout and Range cases."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from cases_elementwise import f
from fixture import case

F = np.float32
I64 = np.int64


def add_cases():
    fam = "constant"
    t = numpy_helper.from_array(np.arange(6, dtype=F).reshape(2, 3) - 2.5, name="v")
    case("constant_tensor", "Constant", attrs={"value": t}, family=fam)
    case("constant_value_float", "Constant", attrs={"value_float": 1.25}, family=fam)
    case("constant_value_floats", "Constant", attrs={"value_floats": [1.0, -2.5, 3.0]}, family=fam)
    case("constant_value_int", "Constant", attrs={"value_int": -7}, family=fam, out_types=[I64])
    case("constant_value_ints", "Constant", attrs={"value_ints": [4, 0, -1]}, family=fam, out_types=[I64])
    case("constantofshape_default", "ConstantOfShape", consts={"s": np.array([2, 3], I64)}, family=fam)
    v = helper.make_tensor("v", TensorProto.INT64, [1], [5])
    case("constantofshape_int64", "ConstantOfShape", consts={"s": np.array([3, 1, 2], I64)}, attrs={"value": v},
         family=fam, out_types=[I64])
    x = f("cast", 2, 5, lo=-100, hi=100)
    for code, dt, name, src in [(TensorProto.INT64, I64, "int64", x), (TensorProto.INT32, np.int32, "int32", x),
                                (TensorProto.INT8, np.int8, "int8", x),
                                (TensorProto.UINT8, np.uint8, "uint8", np.abs(x)),
                                (TensorProto.BOOL, np.bool_, "bool", np.round(x / 60))]:
        case(f"cast_float_to_{name}", "Cast", [src], attrs={"to": code}, family=fam, out_types=[dt])
    case("cast_int64_to_float", "Cast", [np.array([-3, 0, 7, 1 << 20], I64)], attrs={"to": TensorProto.FLOAT},
         family=fam)
    case("cast_int64_to_int32_opset7", "Cast", [np.array([-3, 0, 7], I64)], attrs={"to": TensorProto.INT32},
         opset=7, family=fam, out_types=[np.int32])
    case("identity", "Identity", [f("identity", 2, 3)], family=fam)
    case("dropout_opset12_mask", "Dropout", [f("dropout", 2, 3)], opset=12, n_out=2, family=fam,
         out_types=[F, np.bool_])
    case("dropout_opset10_ratio", "Dropout", [f("dropout2", 2, 3)], attrs={"ratio": 0.3}, opset=10, family=fam)
    case("range_float", "Range", consts={"a": np.array(-1.5, F), "b": np.array(2.0, F), "c": np.array(0.75, F)},
         family=fam)
    case("range_int64_negative", "Range", consts={"a": np.array(10, I64), "b": np.array(1, I64),
                                                  "c": np.array(-3, I64)}, family=fam, out_types=[I64])
    case("range_empty", "Range", consts={"a": np.array(5, I64), "b": np.array(1, I64), "c": np.array(2, I64)},
         family=fam, out_types=[I64])
