import ArgumentParser
import Foundation
import OctetGraph
import OctetQuant
import OctetTensor

/// `octet recover`'s evaluation: the float reference outputs and labels, and the quality metrics
/// (SQNR per output, top-1 agreement with float, accuracy) of its JSON line.
extension RecoverCommand {
    /// The reference outputs and labels the metrics compare with, read and checked against the
    /// model's outputs and the evaluation inputs `evalX` before the pass runs, so a typo costs no
    /// run. References: `--reference` (a bare path names the only output), else the model's own
    /// float run on `evalX` (every float32 output). Labels: `--labels`, else those of an `--eval`
    /// .npz (`Dataset.npzLabelKeys`), when it holds them.
    /// - Throws: `ValidationError` (exit 64) for a malformed spec, an unknown or repeated output, `DataError`
    ///   naming the file for a wrong dtype, shape, NaN/Inf, or a label outside the classes.
    func loadTargets(_ m: Model, _ evalX: Tensor) throws -> (references: [(String, Tensor)], labels: [Int]?, referenceSource: String) {
        let n = evalX.shape[0], first = m.outputs[0].name
        func expected(_ output: String) -> [Int] { [n] + (m.tensorShapes[output] ?? []).dropFirst() }
        var refs: [(String, Tensor)] = []
        for spec in reference {
            var parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 1, m.outputs.count == 1 { parts = [first, parts[0]] }
            guard parts.count == 2 else {
                throw ValidationError("--reference expects output=path (the model has \(m.outputs.count) outputs: \(m.outputs.map(\.name).joined(separator: ", "))), got '\(spec)'")
            }
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
        var source = "--reference"
        if refs.isEmpty {
            let outs = try m.run([m.inputs[0].name: evalX])
            refs = m.outputs.compactMap { o in outs[o.name].flatMap { $0.dtype == .float32 ? (o.name, $0) : nil } }
            source = "octet float"
        }
        let logits = expected(first)
        guard logits.count == 2 else {   // a segmentation map or a detection head has no one class per sample
            if labels != nil { throw DataError("--labels: accuracy needs logits [N, classes]; output '\(first)' is \(logits)") }
            return (refs, nil, source)   // an --eval .npz's labels (boxes, masks) are not read
        }
        guard let l = try evalLabels(samples: n) else { return (refs, nil, source) }
        let classes = logits[1]
        if let bad = l.labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw DataError("\(l.source): holds label \(bad), outside the \(classes) classes 0…\(classes - 1)")
        }
        return (refs, l.labels, source)
    }

    /// `--labels`, else the labels of an `--eval` .npz; nil when neither gives any.
    func evalLabels(samples n: Int) throws -> (labels: [Int], source: String)? {
        let l: [Int], source: String
        if let labels {
            do { l = try Dataset.labelArray(try NPY.read(path: labels), source: labels) } catch let e as DatasetError { throw DataError("--labels: \(e)") }
            source = "--labels \(labels)"
        } else if eval.lowercased().hasSuffix(".npz"), case let arrays = try NPY.readArchive(path: eval),
                  let key = Dataset.npzLabelKeys.first(where: { arrays[$0] != nil }) {
            do { l = try Dataset.labelArray(arrays[key]!, source: "\(eval):\(key)") } catch let e as DatasetError { throw DataError("\(e)") }
            source = "\(eval):\(key)"
        } else {
            return nil
        }
        guard l.count == n else { throw DataError("\(source): holds \(l.count) labels for \(n) evaluation samples") }
        return (l, source)
    }

    /// The JSON line's quality fields: `sqnr_db` and `saturated_pct` per output, `top1_agreement`,
    /// `accuracy`, `reference`.
    func addMetrics(_ row: inout [String: Any], _ m: Model, _ q: QuantizedModel, _ out: [String: Tensor],
                    _ targets: (references: [(String, Tensor)], labels: [Int]?, referenceSource: String)) {
        row["reference"] = targets.referenceSource
        var sqnr: [String: Double] = [:], saturated: [String: Double] = [:]
        for (name, r) in targets.references {
            let o = out[name]!
            sqnr[name] = Quality.sqnr(r, o)
            if name == m.outputs[0].name && r.rank == 2 { row["top1_agreement"] = Quality.agreement(r, o) }
        }
        for o in m.outputs {
            if let t = out[o.name], t.dtype == .float32, let p = q.annotations.tensors[o.name], p.channels == nil {
                saturated[o.name] = Quality.saturatedPercent(t, p)
            }
        }
        row["sqnr_db"] = sqnr
        row["saturated_pct"] = saturated
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
    /// Percent of `t`'s values on the first or last code of `p`'s integer range: the output values
    /// that saturate (a value that lands there exactly counts too).
    static func saturatedPercent(_ t: Tensor, _ p: QuantParams) -> Double {
        let v = t.floats
        guard !v.isEmpty else { return 0 }
        let half = p.scale / 2
        let lo = Float(p.qmin - p.zeroPoint) * p.scale + half, hi = Float(p.qmax - p.zeroPoint) * p.scale - half
        return 100 * Double(v.reduce(0) { $0 + ($1 < lo || $1 > hi ? 1 : 0) }) / Double(v.count)
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
