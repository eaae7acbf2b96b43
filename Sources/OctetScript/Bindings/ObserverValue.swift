import OctetQuant
import OctetTensor

/// A standalone calibration observer: `o.observe(t)`, `o.fix_pos`, `o.scale`, `o.histogram()`.
///
/// Keeps an evenly strided sample of at most `sampleLimit` observed values per batch for the
/// histogram plot; the observer itself keeps only fixed-size statistics.
final class ObserverValue: DomainObject {
    let observer: Observer
    private(set) var sample: [Double] = []
    /// Values observed in all, of which `sample` holds an evenly strided part.
    private(set) var observedCount = 0
    static let sampleLimit = 20_000

    init(_ observer: Observer) { self.observer = observer }

    var typeName: String { "Observer" }

    func observe(_ t: Tensor) throws {
        try observer.observe(t)
        let values = t.asFloatArray()
        observedCount += values.count
        let step = max(1, values.count / ObserverValue.sampleLimit)
        var kept: [Double] = []
        kept.reserveCapacity(values.count / step + 1)
        for i in stride(from: 0, to: values.count, by: step) { kept.append(Double(values[i])) }
        sample += kept
        if sample.count > 4 * ObserverValue.sampleLimit { sample = stride(from: 0, to: sample.count, by: 2).map { sample[$0] } }
    }

    var params: QuantParams? { observer.batchCount > 0 ? try? observer.quantParams() : nil }

    /// [qmin · scale, qmax · scale]: the representable (clip) range.
    var clipRange: (Double, Double)? {
        guard let p = params else { return nil }
        return (Double(p.qmin) * Double(p.scale), Double(p.qmax) * Double(p.scale))
    }

    var summary: String {
        var s = "Observer \(observer.kind.rawValue)" + (observer.name.isEmpty ? "" : " '\(observer.name)'") + ": \(observer.batchCount) batches"
        if let p = params, let (lo, hi) = clipRange {
            s += p.fixPos.map { ", fix_pos \($0)" } ?? ""
            s += ", scale \(Format.real(Double(p.scale))), clip range [\(Format.fixed(lo, 4)), \(Format.fixed(hi, 4))]"
            s += p.isDPUDeployable ? " (power of two, DPU)"
                : p.fixPos != nil ? " (power of two, \(p.bits)-bit: not DPU-deployable)" : " (float scale, not DPU-deployable)"
        }
        return s
    }

    var propertyNames: [String] { ["kind", "fix_pos", "scale", "clip", "batches", "power_of_two"] }

    func property(_ name: String) throws -> Value? {
        switch name {
        case "kind": return .string(observer.kind.rawValue)
        case "fix_pos": return try checked().fixPos.map { .int($0) } ?? .null
        case "scale": return .real(Double(try checked().scale))
        case "clip":
            _ = try checked()
            return clipRange.map { .list([.real($0.0), .real($0.1)]) } ?? .null
        case "batches": return .int(observer.batchCount)
        case "power_of_two": return .bool(observer.kind.isPowerOfTwo)
        default: return nil
        }
    }

    /// Parameters, or the observer's own error (no observations yet).
    func checked() throws -> QuantParams { try observer.quantParams() }

    var methods: BindingTable { ObserverValue.methodTable }

    static func receiver(_ a: Arguments) throws -> ObserverValue {
        guard case .object(let o as ObserverValue) = a[0] else { throw a.typeError(0, "an Observer") }
        return o
    }

    static let methodTable = BindingTable(domain: "quant", owner: "Observer", [
        Builtin("observe", ["self", "x"], doc: "Adds one batch (Tensor, Dataset or data path; float32, finite) to the statistics.") { a, interp in
            let o = try receiver(a)
            try o.observe(try DataInput.from(a, 1, interp).all())
            return .null
        },
        Builtin("histogram", ["self"], named: [ParameterSpec("bins", .int(60))],
                doc: "Histogram plot of the observed values (an evenly strided sample of each batch of 40 000 values or more, as the y axis says) with the clip range [qmin·scale, qmax·scale] and fix_pos marked.") { a, _ in
            let o = try receiver(a)
            let p = try o.checked()
            let bins = try a.int("bins")
            guard (1...1000).contains(bins) else { throw BindingError.named("bins", "bins must be in 1...1000") }
            let (lo, hi) = o.clipRange!
            let what = p.fixPos.map { "fix_pos \($0)" } ?? "scale \(Format.fixed(Double(p.scale), 5))"
            let markers = [Plot.Marker(x: lo, label: "clip \(Format.fixed(lo, 3))"),
                           Plot.Marker(x: hi, label: "clip \(Format.fixed(hi, 3)) (\(what))")]
            let title = "\(o.observer.kind.rawValue)" + (o.observer.name.isEmpty ? "" : " \(o.observer.name)") + ": \(what)"
            let counts = o.sample.count == o.observedCount ? "count" : "count in a sample of \(o.sample.count) of \(o.observedCount) values"
            return .object(Plot(.histogram(values: o.sample, bins: bins, markers: markers), title: title, xLabel: "value", yLabel: counts))
        },
    ])

    func render(in notebook: RenderContext) throws -> RichRendering? { nil }
}
