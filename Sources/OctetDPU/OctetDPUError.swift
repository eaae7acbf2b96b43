/// Errors of the DPU inspector, compiler, emulator, program files and dumps. Messages name
/// the node, tensor, rule or file involved.
public enum OctetDPUError: Error, CustomStringConvertible, Equatable {
    /// No built-in target has this name.
    case unknownTarget(String, accepted: [String])
    /// A node the caller forced onto the DPU breaks a target rule.
    case unsupportedOnDPU(node: String, rule: String)
    /// A fix position combination outside a DPU shift range (reference-quantizer §4.1, §4.2, §4.4).
    case shiftOutOfRange(node: String, shift: String, value: Int, range: ClosedRange<Int>)
    /// The quantized graph cannot become a DPU program (per-channel, float scales, excluded nodes…).
    case notDeployable(String)
    /// A tensor the program needs has no fix_pos.
    case missingFixPos(tensor: String, node: String)
    /// The program was compiled for another target.
    case targetMismatch(program: String, expected: String)
    /// Missing input, wrong shape or dtype.
    case inputMismatch(String)
    /// An instruction failed while running.
    case execution(node: String, reason: String)
    /// Program file problems.
    case corruptFile(path: String, reason: String)
    case truncatedFile(path: String, expected: Int, found: Int)
    case unsupportedVersion(path: String, found: Int, supported: Int)
    /// Golden dump folder problems (missing manifest, unreadable file, different models).
    case badDump(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownTarget(let n, let a): return "unknown DPU target '\(n)'; accepted: \(a.joined(separator: ", "))"
        case .unsupportedOnDPU(let n, let r): return "\(n): cannot run on the DPU: \(r)"
        case .shiftOutOfRange(let n, let s, let v, let r):
            return "\(n): \(s) = \(v) outside the DPU range \(r.lowerBound)..\(r.upperBound)"
        case .notDeployable(let r): return "not deployable on the DPU: \(r)"
        case .missingFixPos(let t, let n): return "\(n): tensor '\(t)' has no fix_pos"
        case .targetMismatch(let p, let e): return "program was compiled for \(p), not \(e)"
        case .inputMismatch(let m): return m
        case .execution(let n, let r): return "\(n): \(r)"
        case .corruptFile(let p, let r): return "\(p): corrupt program file: \(r)"
        case .truncatedFile(let p, let e, let f):
            return "\(p): truncated program file: header announces \(e) payload bytes, found \(f)"
        case .unsupportedVersion(let p, let f, let s):
            return "\(p): program format version \(f) is not supported (this build reads version \(s))"
        case .badDump(let p, let r): return "\(p): \(r)"
        }
    }
}
