import Foundation
import OctetGraph

/// Text rendering of `octet info`.
enum ModelSummary {
    static func text(_ m: Model, layers: Bool) -> String {
        var s = "model: \(m.path ?? m.graph.name)\n"
        s += "IR version \(m.graph.irVersion), opset \(m.graph.opset), \(m.graph.nodes.count) nodes as run (constant subgraphs folded)\n"
        s += batchLine(m)
        for i in m.inputs { s += "input  \(i.name): \(i.typeDescription) [\(i.dims.map(\.description).joined(separator: ", "))]\n" }
        for o in m.outputs {
            let shape = m.tensorShapes[o.name].map { $0.map(String.init).joined(separator: ", ") } ?? "?"
            let note = m.outputBatching(o.name).note(batchSize: m.batchSize).map { " (\($0))" } ?? ""
            s += "output \(o.name): \(o.typeDescription) [\(shape)]\(note)\n"
        }
        s += "ops: " + m.graph.opHistogram.map { "\($0.op) \($0.count)" }.joined(separator: ", ") + "\n"
        let stats = m.layerStats
        let total = stats.reduce(0) { $0 + $1.macs }
        s += "parameters: \(m.graph.parameterCount)\n"
        s += "MACs per sample: \(total) (\(formatMega(total)))\n"
        if layers {
            let w = max(4, stats.map(\.node.count).max() ?? 4)
            s += "\n" + "layer".padding(toLength: w, withPad: " ", startingAt: 0) + "  op             output               params        MACs\n"
            for l in stats {
                s += l.node.padding(toLength: w, withPad: " ", startingAt: 0) + "  "
                s += l.opType.padding(toLength: 14, withPad: " ", startingAt: 0) + " "
                s += "\(l.outputShape)".padding(toLength: 20, withPad: " ", startingAt: 0) + " "
                s += String(l.parameters).leftPad(8) + " " + String(l.macs).leftPad(11) + "\n"
            }
        }
        return s
    }

    /// How the batch is set: symbolic in every input (any size runs), or symbolic in some inputs
    /// beside others with a fixed axis 0.
    static func batchLine(_ m: Model) -> String {
        guard m.symbolicBatch else { return "" }
        let fixed = m.inputs.filter { !m.symbolicBatchInputs.contains($0.name) && m.graph.initializers[$0.name] == nil }
        guard !fixed.isEmpty else {
            return "batch: symbolic in the model; shapes below at batch \(m.batchSize) (--batch N), any batch size runs\n"
        }
        let symbolic = m.inputs.filter { m.symbolicBatchInputs.contains($0.name) }
        let shown = symbolic.first?.dims.first.map(\.description) ?? "?"
        return "batch: symbolic in input " + symbolic.map { "'\($0.name)'" }.joined(separator: ", ")
            + " (shown at batch \(shown), --batch N); input " + fixed.map { "'\($0.name)'" }.joined(separator: ", ")
            + " fixes axis 0 at \(m.batchSize)\n"
    }

    static func formatMega(_ v: Int) -> String {
        v >= 1_000_000 ? String(format: "%.1f M", Double(v) / 1e6) : String(format: "%.1f k", Double(v) / 1e3)
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
