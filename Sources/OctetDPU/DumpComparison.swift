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
        /// A weight, bias or constant operand (`node` is its name), not a node output.
        public var parameter = false
    }

    /// In the first dump's execution order, then the second dump's nodes the first lacks; then
    /// the parameters the same way.
    public var nodes: [NodeResult]
    /// The first node (execution order) whose output differs, else the first differing parameter;
    /// nil when everything matches.
    public var firstDivergence: String? { firstDiverging?.node }
    /// The result `firstDivergence` names.
    public var firstDiverging: NodeResult? { nodes.first { $0.mismatches > 0 || $0.note != nil } }
    /// "first diverging node: NAME" (or "parameter"), or "all nodes and parameters identical".
    public var divergenceLine: String {
        firstDiverging.map { "first diverging \($0.parameter ? "parameter" : "node"): \($0.node)" } ?? "all nodes and parameters identical"
    }
    public var totalMismatches: Int { nodes.reduce(0) { $0 + $1.mismatches } }

    /// Text report: the first diverging node, then one line per node with mismatches.
    public var summary: String {
        let parameters = nodes.filter(\.parameter).count
        var lines = ["compared \(nodes.count - parameters) nodes and \(parameters) parameters, \(totalMismatches) mismatching int8 values"]
        lines.append(divergenceLine)
        for n in nodes where n.mismatches > 0 || n.note != nil {
            lines.append("  \(n.parameter ? "parameter " : "")\(n.node) (\(n.tensor)): \(n.mismatches)/\(n.count)\(n.note.map { " — \($0)" } ?? "")")
        }
        return lines.joined(separator: "\n")
    }
}

extension GoldenDump {
    /// Reads a dump's manifest.
    /// - Throws: `OctetDPUError.badDump` naming the folder: no manifest, an unreadable one, or one
    ///   whose `format` is not `octet-golden-dump` or whose `version` is not 1.
    public static func manifest(_ dir: String) throws -> DumpManifest {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw OctetDPUError.badDump(path: dir, reason: FileManager.default.fileExists(atPath: dir) ? "not a folder" : "no such folder")
        }
        guard let data = FileManager.default.contents(atPath: "\(dir)/manifest.json") else {
            throw OctetDPUError.badDump(path: dir, reason: "no manifest.json (not a golden dump folder)")
        }
        let m: DumpManifest
        do { m = try JSONDecoder().decode(DumpManifest.self, from: data) } catch {
            throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "unreadable manifest: \(DecodingErrorText.summary(error, data: data))")
        }
        guard m.format == DumpManifest.formatName else {
            throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "format '\(m.format)' is not a golden dump ('\(DumpManifest.formatName)')")
        }
        guard m.version == 1 else {
            throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "manifest version \(m.version); this octet reads version 1")
        }
        return m
    }

    /// Compares the int8 node outputs of two dumps (matched by node and tensor name), in the
    /// execution order of `a`, then their int8 parameters (weights, biases, constant operands).
    /// Entries of `b` that `a` lacks follow each group, counted as missing. Every compared `.bin`
    /// is checked against the `.npy` beside it. The float files are not compared: their last bits
    /// depend on the thread count.
    /// - Throws: `OctetDPUError.badDump` for a missing manifest or file, a `.npy` that holds other
    ///   values than its `.bin`, and for dumps that cannot be compared: inputs of different shapes,
    ///   or no node output in common.
    public static func compare(_ a: String, _ b: String) throws -> DumpComparison {
        let ma = try manifest(a), mb = try manifest(b)
        try checkEntries(ma, a)
        try checkEntries(mb, b)
        if ma.inputShapes != mb.inputShapes {
            func shapes(_ m: DumpManifest) -> String { m.inputShapes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
            throw OctetDPUError.badDump(path: b, reason: "its inputs have other shapes than \(a)'s (\(shapes(mb)) vs \(shapes(ma))): not comparable")
        }
        let keysA = Set(ma.nodes.map(key))
        if !ma.nodes.isEmpty, !mb.nodes.contains(where: { keysA.contains(key($0)) }) {
            throw OctetDPUError.badDump(path: b, reason: "no node output in common with \(a) (dumps of different models?): not comparable")
        }
        return DumpComparison(nodes: try compare(ma.nodes, mb.nodes, a, b, parameters: false)
                                + compare(ma.parameters, mb.parameters, a, b, parameters: true))
    }

    private static func key(_ e: DumpEntry) -> String { e.node + "\u{0}" + e.tensor }

    /// One result per entry of `ea` (in order), then per entry only `eb` has.
    private static func compare(_ ea: [DumpEntry], _ eb: [DumpEntry], _ a: String, _ b: String,
                                parameters: Bool) throws -> [DumpComparison.NodeResult] {
        var byKey: [String: DumpEntry] = [:]
        for e in eb { byKey[key(e)] = e }
        let keysA = Set(ea.map(key))
        var results: [DumpComparison.NodeResult] = []
        let countsB = try eb.map { try elementCount($0, b) }
        for e in ea {
            let count = try elementCount(e, a)
            var r = DumpComparison.NodeResult(node: e.node, tensor: e.tensor, mismatches: 0, count: count, note: nil, parameter: parameters)
            guard let f = byKey[key(e)] else {
                r.note = "missing in \(b)"; r.mismatches = count; results.append(r); continue
            }
            if f.shape != e.shape { r.note = "shape \(e.shape) vs \(f.shape)"; r.mismatches = count }
            else if f.fixPos != e.fixPos { r.note = "fix_pos \(e.fixPos) vs \(f.fixPos)"; r.mismatches = count }
            else {
                let x = try codes(e, a, count: count), y = try codes(f, b, count: count)
                r.mismatches = zip(x, y).reduce(0) { $0 + ($1.0 != $1.1 ? 1 : 0) }
            }
            results.append(r)
        }
        for (e, count) in zip(eb, countsB) where !keysA.contains(key(e)) {
            results.append(DumpComparison.NodeResult(node: e.node, tensor: e.tensor, mismatches: count, count: count,
                                                     note: "missing in \(a)", parameter: parameters))
        }
        return results
    }

    /// The int8 codes of entry `e` of the dump `dir`: its `.bin`, of the manifest's size and equal
    /// to the `.npy` beside it. - Throws: `OctetDPUError.badDump` naming the file.
    static func codes(_ e: DumpEntry, _ dir: String, count: Int) throws -> Data {
        let bin = "\(dir)/\(e.file)"
        let data = try bytes(bin, dir)
        guard data.count == count else {
            throw OctetDPUError.badDump(path: bin, reason: "\(data.count) bytes, the manifest's shape \(e.shape) needs \(count)")
        }
        guard e.file.hasSuffix(".bin") else { return data }
        let npy = String(bin.dropLast(4)) + ".npy"
        let twin: Tensor
        do { twin = try NPY.decode(try bytes(npy, dir), name: npy) } catch let error as OctetDPUError { throw error } catch {
            throw OctetDPUError.badDump(path: npy, reason: "\(error)")
        }
        guard twin.dtype == .int8, twin.shape == e.shape else {
            throw OctetDPUError.badDump(path: npy, reason: "holds \(twin.dtype) \(twin.shape), the manifest says int8 \(e.shape)")
        }
        guard twin.int8s.withUnsafeBytes({ Data($0) }) == data else {
            throw OctetDPUError.badDump(path: npy, reason: "holds other values than \((e.file as NSString).lastPathComponent) beside it")
        }
        return data
    }

    /// Each node output listed once, and every file inside the dump folder (no absolute path, no `..`).
    /// - Throws: `OctetDPUError.badDump` naming the manifest and the entry.
    static func checkEntries(_ m: DumpManifest, _ dir: String) throws {
        for (entries, what) in [(m.nodes, "node"), (m.parameters, "parameter")] {
            var seen: Set<String> = []
            for e in entries {
                guard seen.insert(key(e)).inserted else {
                    throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "\(what) \(e.node) (\(e.tensor)) is listed twice")
                }
                let parts = e.file.split(separator: "/")
                guard !e.file.hasPrefix("/"), !parts.contains(".."), !parts.isEmpty else {
                    throw OctetDPUError.badDump(path: "\(dir)/manifest.json", reason: "\(what) \(e.node): file '\(e.file)' is not inside the dump folder")
                }
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

    /// The bytes of a file a manifest in `dir` lists. - Throws: `OctetDPUError.badDump` for a
    /// missing file, one that is not a regular file (a folder, device or FIFO) or an unreadable one.
    static func bytes(_ path: String, _ dir: String) throws -> Data {
        let fm = FileManager.default
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard fm.fileExists(atPath: resolved) else {
            throw OctetDPUError.badDump(path: path, reason: "missing dump file listed in \(dir)/manifest.json")
        }
        guard (try? fm.attributesOfItem(atPath: resolved))?[.type] as? FileAttributeType == .typeRegular else {
            throw OctetDPUError.badDump(path: path, reason: "listed in \(dir)/manifest.json, but not a regular file")
        }
        guard let d = fm.contents(atPath: resolved) else {
            throw OctetDPUError.badDump(path: path, reason: "cannot be read (permissions or an I/O error)")
        }
        return d
    }
}
