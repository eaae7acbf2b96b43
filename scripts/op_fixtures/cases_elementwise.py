"""Element-wise cases: broadcasting fast paths, int64 shape arithmetic, comparisons, Where."""
import numpy as np

from fixture import case, rng_for

F = np.float32
I64 = np.int64
B = np.bool_


def f(name, *shape, lo=-2.0, hi=2.0):
    return rng_for(name + str(shape)).uniform(lo, hi, size=shape).astype(F)


def i64(name, *shape, lo=-9, hi=10):
    return rng_for(name + str(shape)).integers(lo, hi, size=shape).astype(I64)


def add_cases():
    fam = "elementwise"
    shapes = {
        "same": ([2, 3, 4], [2, 3, 4]), "scalar": ([2, 3], []), "scalar_lhs": ([], [2, 3]),
        "channel": ([2, 3, 4, 5], [1, 3, 1, 1]), "trailing": ([2, 3, 4], [4]),
        "generic": ([2, 1, 4], [3, 1]), "rank_up": ([3, 1, 5], [2, 1, 1, 1]),
    }
    for op in ["Add", "Sub", "Mul", "Div"]:
        for tag, (sa, sb) in shapes.items():
            n = f"{op.lower()}_{tag}"
            b = f(n + "b", *sb, lo=0.5, hi=2.0) if op == "Div" else f(n + "b", *sb)
            case(n, op, [f(n + "a", *sa), b], family=fam)
        n = f"{op.lower()}_int64"
        b = np.array([2, -3, 4], I64) if op == "Div" else i64(n + "b", 3)
        case(n, op, [i64(n + "a", 2, 3), b], family=fam, out_types=[I64])
    case("pow_float", "Pow", [f("pow_a", 2, 3, lo=0.1, hi=3), f("pow_b", 3, lo=-2, hi=3)], family=fam)
    case("pow_int_exponent", "Pow", [f("powi_a", 2, 3)], consts={"e": np.array(3, I64)}, family=fam)
    case("pow_square", "Pow", [f("pows_a", 2, 3)], consts={"e": np.array(2.0, F)}, family=fam)
    for op, lo in [("Sqrt", 0.0), ("Exp", -3.0), ("Log", 0.05), ("Neg", -3.0), ("Abs", -3.0),
                   ("Reciprocal", 0.5), ("Erf", -3.0)]:
        n = op.lower()
        case(n, op, [f(n, 2, 3, 4, lo=lo, hi=3.0)], family=fam)
    case("neg_int64", "Neg", [i64("negi", 5)], family=fam, out_types=[I64])
    case("abs_int64", "Abs", [i64("absi", 5)], family=fam, out_types=[I64])
    for op in ["Min", "Max", "Sum"]:
        n = op.lower()
        case(n + "_three", op, [f(n + "1", 2, 3, 4), f(n + "2", 3, 1), f(n + "3", 4)], family=fam)
        case(n + "_one", op, [f(n + "4", 2, 3)], family=fam)
    case("max_int64", "Max", [i64("maxi1", 4), i64("maxi2", 1)], family=fam, out_types=[I64])
    for op in ["Equal", "Less", "Greater"]:
        n = op.lower()
        a = np.round(f(n + "a", 2, 3, 4))
        b = np.round(f(n + "b", 3, 1))
        case(n + "_float", op, [a, b], family=fam, out_types=[B])
        case(n + "_int64", op, [i64(n + "c", 2, 4, lo=-2, hi=3), i64(n + "d", 4, lo=-2, hi=3)],
             family=fam, out_types=[B])
    cond = rng_for("where").integers(0, 2, size=(2, 1, 4)).astype(B)
    case("where_broadcast", "Where", [cond, f("wx", 3, 4), f("wy", 1)], family=fam)
    case("where_int64", "Where", [cond[0, 0], i64("wxi", 4), i64("wyi", 4)], family=fam, out_types=[I64])
    case("not", "Not", [rng_for("not").integers(0, 2, size=(2, 3)).astype(B)], family=fam, out_types=[B])
