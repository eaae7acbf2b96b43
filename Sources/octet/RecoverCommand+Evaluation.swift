import ArgumentParser
import Foundation
import OctetGraph
import OctetTensor

/// `octet recover`'s evaluation: the float reference outputs and labels, and the quality metrics
/// (SQNR per output, top-1 agreement with float, accuracy) of its JSON line.
extension RecoverCommand {
    /// The `--reference` outputs and `--labels`, read and checked against the model's outputs and
    /// the `samples` evaluation inputs before the pass runs, so a typo costs no run.
    /// - Throws: `ValidationError` (exit 64) for a malformed spec, an unknown or repeated output, `DataError`
    ///   naming the file for a wrong dtype, shape, NaN/Inf, or a label outside the classes.
    func loadTargets(_ m: Model, samples n: Int) throws -> (references: [(String, Tensor)], labels: [Int]?) {
        let first = m.outputs[0].name
        func expected(_ output: String) -> [Int] { [n] + (m.tensorShapes[output] ?? []).dropFirst() }
        var refs: [(String, Tensor)] = []
        for spec in reference {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--reference expects output=path, got '\(spec)'") }
            guard m.outputs.contains(where: { $0.name == parts[0] }) else {
                throw ValidationError("--reference: no output named '\(parts[0])' (outputs: \(m.outputs.map(\.name).joined(separator: ", ")))")
            }
            guard !refs.contains(where: { $0.0 == parts[0] }) else {
                throw ValidationError("--reference: output '\(parts[0])' is given twice")
            }
            let r: Tensor, shape = expected(parts[0])
            do { r = try NPY.read(path: parts[1]) } catch { throw DataError("--reference \(parts[0]): \(error)") }
            guard r.dtype == .float32, r.shape == shape else {
                throw DataError("--reference \(parts[0]): \(parts[1]) must be float32 of shape \(shape), got \(r.dtype) \(r.shape)")
            }
            guard r.floats.allSatisfy(\.isFinite) else { throw DataError("--reference \(parts[0]): \(parts[1]) has NaN/Inf values") }
            refs.append((parts[0], r))
        }
        guard let labels else { return (refs, nil) }
        let l: [Int]
        do { l = try Dataset.labelArray(try NPY.read(path: labels), source: labels) } catch let e as DatasetError { throw DataError("--labels: \(e)") }
        guard l.count == n else { throw DataError("--labels: \(labels) holds \(l.count) labels for \(n) evaluation samples") }
        let classes = expected(first).dropFirst().reduce(1, *)
        if let bad = l.first(where: { $0 < 0 || $0 >= classes }) {
            throw DataError("--labels: \(labels) holds \(bad), outside the \(classes) classes 0…\(classes - 1)")
        }
        return (refs, l)
    }

    func addMetrics(_ row: inout [String: Any], _ m: Model, _ out: [String: Tensor],
                    _ targets: (references: [(String, Tensor)], labels: [Int]?)) {
        var sqnr: [String: Double] = [:]
        for (name, r) in targets.references {
            let o = out[name]!
            sqnr[name] = Quality.sqnr(r, o)
            if name == m.outputs[0].name && r.rank == 2 { row["top1_agreement"] = Quality.agreement(r, o) }
        }
        row["sqnr_db"] = sqnr
        if let l = targets.labels { row["accuracy"] = Quality.accuracy(out[m.outputs[0].name]!, l) }
    }
}

/// Output quality measures of `octet recover`.
enum Quality {
    /// SQNR in dB; JSON has no infinities: 999 stands for an exact match, −999 for a zero
    /// reference or a NaN output (no signal, or no usable value).
    static func sqnr(_ r: Tensor, _ t: Tensor) -> Double {
        let a = r.floats, b = t.floats
        var s = 0.0, e = 0.0
        for i in a.indices { s += Double(a[i]) * Double(a[i]); e += Double(a[i] - b[i]) * Double(a[i] - b[i]) }
        if e == 0 { return 999 }
        let db = 10 * log10(s / e)
        return db.isFinite ? db : -999
    }
    static func argmax(_ t: Tensor) -> [Int] {
        let n = t.shape[0], c = t.count / n, v = t.floats
        return (0..<n).map { i in (0..<c).max { v[i * c + $0] < v[i * c + $1] }! }
    }
    static func agreement(_ a: Tensor, _ b: Tensor) -> Double {
        100 * Double(zip(argmax(a), argmax(b)).filter { $0 == $1 }.count) / Double(a.shape[0])
    }
    static func accuracy(_ t: Tensor, _ labels: [Int]) -> Double {
        100 * Double(zip(argmax(t), labels).filter { $0 == $1 }.count) / Double(labels.count)
    }
}
