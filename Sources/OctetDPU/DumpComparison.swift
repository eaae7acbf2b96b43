import Foundation
import OctetTensor

/// Result of comparing two golden dumps node by node.
public struct DumpComparison: Sendable, Equatable {
    public struct NodeResult: Sendable, Equatable {
        public var node: String
        public var tensor: String
        /// Differing int8 values (all of them when shapes or fix_pos differ).
        public var mismatches: Int
        public var count: Int
        /// Reason the node could not be compared value by value (shape, fix_pos, missing); nil otherwise.
        public var note: String?
    }

    /// In the first dump's execution order, then the second dump's nodes the first lacks.
    public var nodes: [NodeResult]
    /// The first node (execution order) whose output differs, or nil when every node matches.
    public var firstDivergence: String? { nodes.first { $0.mismatches > 0 || $0.note != nil }?.node }
    public var totalMismatches: Int { nodes.reduce(0) { $0 + $1.mismatches } }

    /// Text report: the first diverging node, then one line per node with mismatches.
    public var summary: String {
        var lines = ["compared \(nodes.count) nodes, \(totalMismatches) mismatching int8 values"]
        lines.append(firstDivergence.map { "first diverging node: \($0)" } ?? "all nodes identical")
        for n in nodes where n.mismatches > 0 || n.note != nil {
            lines.append("  \(n.node) (\(n.tensor)): \(n.mismatches)/\(n.count)\(n.note.map { " — \($0)" } ?? "")")
        }
        return lines.joined(separator: "\n")
    }
}

extension GoldenDump {
    /// Reads a dump's manifest. - Throws: `OctetDPUError.badDump` naming the folder.
    public static func manifest(_ dir: String) throws -> DumpManifest {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw OctetDPUError.badDump(path: dir, reason: "no such folder")
        }
        guard let data = FileManager.default.contents(atPath: "\(dir)/manifest.json") else {
            throw OctetDPUError.badDump(path: dir, reason: "no manifest.json (not a golden dump folder)")
        }
        do { return try JSONDecoder().decode(DumpManifest.self, from: data) } catch {
            throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "unreadable manifest: \(DecodingErrorText.summary(error, data: data))")
        }
    }

    /// Compares the int8 node outputs of two dumps (matched by node and tensor name), in the
    /// execution order of `a`. Nodes of `b` that `a` lacks follow, each counted as missing.
    /// - Throws: `OctetDPUError.badDump` for a missing manifest or file, and for dumps that cannot
    ///   be compared: inputs of different shapes, or no node output in common.
    public static func compare(_ a: String, _ b: String) throws -> DumpComparison {
        let ma = try manifest(a), mb = try manifest(b)
        try checkEntries(ma, a)
        try checkEntries(mb, b)
        if ma.inputShapes != mb.inputShapes {
            func shapes(_ m: DumpManifest) -> String { m.inputShapes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
            throw OctetDPUError.badDump(path: b, reason: "its inputs have other shapes than \(a)'s (\(shapes(mb)) vs \(shapes(ma))): not comparable")
        }
        let keysA = Set(ma.nodes.map { $0.node + "\u{0}" + $0.tensor })
        if !ma.nodes.isEmpty, !mb.nodes.contains(where: { keysA.contains($0.node + "\u{0}" + $0.tensor) }) {
            throw OctetDPUError.badDump(path: b, reason: "no node output in common with \(a) (dumps of different models?): not comparable")
        }
        var byKey: [String: DumpEntry] = [:]
        for e in mb.nodes { byKey[e.node + "\u{0}" + e.tensor] = e }
        var results: [DumpComparison.NodeResult] = []
        let countsB = try mb.nodes.map { try elementCount($0, b) }
        for e in ma.nodes {
            let count = try elementCount(e, a)
            var r = DumpComparison.NodeResult(node: e.node, tensor: e.tensor, mismatches: 0, count: count, note: nil)
            guard let f = byKey[e.node + "\u{0}" + e.tensor] else {
                r.note = "missing in \(b)"; r.mismatches = count; results.append(r); continue
            }
            if f.shape != e.shape { r.note = "shape \(e.shape) vs \(f.shape)"; r.mismatches = count }
            else if f.fixPos != e.fixPos { r.note = "fix_pos \(e.fixPos) vs \(f.fixPos)"; r.mismatches = count }
            else {
                let x = try bytes("\(a)/\(e.file)", a), y = try bytes("\(b)/\(f.file)", b)
                // Each file against its own manifest entry, so the short one is the one named.
                for (file, data) in [("\(a)/\(e.file)", x), ("\(b)/\(f.file)", y)] where data.count != count {
                    throw OctetDPUError.badDump(path: file, reason: "\(data.count) bytes, the manifest's shape \(e.shape) needs \(count)")
                }
                r.mismatches = zip(x, y).reduce(0) { $0 + ($1.0 != $1.1 ? 1 : 0) }
            }
            results.append(r)
        }
        for (e, count) in zip(mb.nodes, countsB) where !keysA.contains(e.node + "\u{0}" + e.tensor) {
            results.append(DumpComparison.NodeResult(node: e.node, tensor: e.tensor, mismatches: count, count: count, note: "missing in \(a)"))
        }
        return DumpComparison(nodes: results)
    }

    /// Each node output listed once, and every file inside the dump folder (no absolute path, no `..`).
    /// - Throws: `OctetDPUError.badDump` naming the manifest and the entry.
    static func checkEntries(_ m: DumpManifest, _ dir: String) throws {
        var seen: Set<String> = []
        for e in m.nodes {
            guard seen.insert(e.node + "\u{0}" + e.tensor).inserted else {
                throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "node \(e.node) (\(e.tensor)) is listed twice")
            }
            let parts = e.file.split(separator: "/")
            guard !e.file.hasPrefix("/"), !parts.contains(".."), !parts.isEmpty else {
                throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "node \(e.node): file '\(e.file)' is not inside the dump folder")
            }
        }
    }

    /// Elements of an entry's shape. - Throws: `OctetDPUError.badDump` for a negative dimension or
    /// a size beyond 2^31 (no dump holds one).
    static func elementCount(_ e: DumpEntry, _ dir: String) throws -> Int {
        var n = 1
        for d in e.shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard d >= 0, !o, p <= 1 << 31 else {
                throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "node \(e.node): invalid shape \(e.shape)")
            }
            n = p
        }
        return n
    }

    static func bytes(_ path: String, _ dir: String) throws -> Data {
        guard let d = FileManager.default.contents(atPath: path) else {
            throw OctetDPUError.badDump(path: path, reason: "missing dump file listed in \(dir)/manifest.json")
        }
        return d
    }
}
