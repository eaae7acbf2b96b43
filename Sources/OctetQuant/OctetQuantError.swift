import OctetTensor

/// Errors raised by observers, calibration and fix_pos rules.
public enum OctetQuantError: Error, CustomStringConvertible, Equatable {
    /// The observed tensor holds NaN or ±∞ values.
    case nonFiniteValues(observer: String, tensor: String, count: Int)
    /// The observed tensor has no elements.
    case emptyTensor(observer: String, tensor: String)
    /// Observers accept float32 tensors only.
    case notFloat(observer: String, tensor: String, dtype: DType)
    /// `quantParams()` was called before any `observe`.
    case noObservations(observer: String, tensor: String)
    /// An observer name the user typed is not known.
    case unknownObserver(name: String, accepted: [String])
    /// A parameter is out of its valid range.
    case invalidParameter(String)
    /// The model cannot be written in the requested form (e.g. a QDQ export below opset 13).
    case notExportable(String)
    /// A QConfig option name is not known.
    case unknownOption(name: String, accepted: [String])
    /// Calibration was given no samples.
    case emptyCalibrationSet
    /// A node's output held NaN or ±∞ during calibration although the calibration data is finite:
    /// the node, its op type, the tensor, the count, and the batch's first sample (0-based).
    case nonFiniteActivation(node: String, op: String, tensor: String, count: Int, sample: Int)
    /// Calibration data holds NaN or ±∞: the input and the first bad sample (0-based).
    case nonFiniteCalibrationData(input: String, sample: Int)
    /// A calibration tensor does not fit the model input.
    case calibrationShape(input: String, expected: [Int], got: [Int])
    /// Calibration data that is not float32 (e.g. raw uint8 images not yet preprocessed).
    case calibrationDType(input: String, got: DType)
    /// The model (its file, or its graph name when it has none) has no Conv / Gemm / element-wise
    /// node that can be quantized.
    case nothingToQuantize(model: String)
    /// Saved parameters do not belong to this model.
    case parameterMismatch(tensor: String, reason: String)
    /// Saved parameters could not be read.
    case unreadableParameters(path: String, reason: String)
    /// Calibration was cancelled by the caller.
    case cancelled
    /// A layer's fix positions leave the range the integer pipeline can shift (fp_in + fp_w).
    case fixPosOutOfRange(node: String, detail: String)

    public var description: String {
        switch self {
        case .nonFiniteValues(let o, let t, let n):
            return "\(o) observer\(Self.on(t)): \(n) NaN/Inf value\(n == 1 ? "" : "s") in observed data"
        case .nonFiniteActivation(let node, let op, let t, let n, let s):
            return "node '\(node)' (\(op)) gives \(n) NaN/Inf value\(n == 1 ? "" : "s") in '\(t)' during calibration (the batch from sample \(s)) "
                + "although the calibration data is finite: with quantized operands, a divisor or an epsilon that rounds to 0 at its fix_pos "
                + "does this; --option exclude_nodes=… keeps nodes in float"
        case .emptyTensor(let o, let t):
            return "\(o) observer\(Self.on(t)): observed tensor is empty"
        case .notFloat(let o, let t, let d):
            return "\(o) observer\(Self.on(t)): expected a float32 tensor, got \(d)"
        case .noObservations(let o, let t):
            return "\(o) observer\(Self.on(t)): no data observed yet (run calibration first)"
        case .unknownObserver(let n, let accepted):
            return "unknown observer '\(n)'; accepted: \(accepted.joined(separator: ", "))"
        case .invalidParameter(let m):
            return "invalid parameter: \(m)"
        case .notExportable(let m):
            return m
        case .unknownOption(let n, let accepted):
            return "unknown quantization option '\(n)'; accepted: \(accepted.joined(separator: ", "))"
        case .emptyCalibrationSet:
            return "calibration set is empty: give at least one sample"
        case .nonFiniteCalibrationData(let i, let s):
            return "calibration input '\(i)': NaN/Inf values, first in sample \(s)"
        case .calibrationShape(let i, let e, let g):
            return "calibration input '\(i)': expected shape \(e) (N = any), got \(g)"
        case .calibrationDType(let i, let d):
            return "calibration input '\(i)': expected float32 data, got \(d) (convert raw uint8 images to float first, e.g. with --u8 OFFSET,SCALE on the command line)"
        case .nothingToQuantize(let g):
            return "model '\(g)' has nothing to quantize (no Conv, ConvTranspose, Gemm, Add or Mul on float data)"
        case .parameterMismatch(let t, let r):
            return "saved quantization parameters do not match this model: tensor '\(t)': \(r)"
        case .unreadableParameters(let p, let r):
            return "\(p): cannot read quantization parameters: \(r)"
        case .cancelled:
            return "calibration cancelled"
        case .fixPosOutOfRange(let n, let d):
            return "node \(n): \(d)"
        }
    }

    private static func on(_ tensor: String) -> String { tensor.isEmpty ? "" : " on '\(tensor)'" }
}

extension OctetQuantError {
    /// `body()`, its `OctetTensorError` (a fix_pos or scale out of range) rethrown as
    /// `.invalidParameter` naming `tensor`.
    static func naming<T>(_ tensor: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as OctetTensorError {
            throw OctetQuantError.invalidParameter("tensor '\(tensor)': \(e)")
        }
    }
}
