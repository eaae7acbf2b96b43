import Foundation
import OctetGraph
import OctetTensor

/// One dumped tensor in a golden dump manifest.
public struct DumpEntry: Codable, Sendable, Equatable {
    /// Node (instruction) that wrote it; a parameter's own name for weights and biases.
    public var node: String
    public var tensor: String
    public var kind: String
    public var device: String
    public var shape: [Int]
    public var fixPos: Int
    /// Raw int8 bytes (row-major), relative to the dump folder; the .npy sits beside it.
    public var file: String
    /// float32 output of the float model for the same node, when it has one.
    public var floatFile: String?

    enum CodingKeys: String, CodingKey {
        case node, tensor, kind, device, shape, file
        case fixPos = "fix_pos", floatFile = "float_file"
    }
}

/// manifest.json of a golden dump.
public struct DumpManifest: Codable, Sendable, Equatable {
    /// The `format` value that marks a folder as a golden dump (a later dump may replace it).
    public static let formatName = "octet-golden-dump"
    public var format = DumpManifest.formatName
    public var version = 1
    public var target: String
    public var inputShapes: [String: [Int]]
    /// Node outputs in execution order.
    public var nodes: [DumpEntry]
    /// int8 weights, biases and constant operands.
    public var parameters: [DumpEntry]

    enum CodingKeys: String, CodingKey {
        case format, version, target, nodes, parameters
        case inputShapes = "input_shapes"
    }
}

/// Golden dumps for bit-exactness checks (vai_q_pytorch `deploy_check`, reference-quantizer §10.2).
///
/// Layout of a dump folder: `manifest.json`; `int8/<node>.bin` + `.npy` (each instruction's int8
/// output, raw bytes and NumPy); `params/<tensor>.bin` + `.npy` (int8 weights and biases);
/// `float/<node>.bin` + `.npy` (float32 outputs of the float model, the program's prepared graph).
public enum GoldenDump {
    /// The files a previous dump wrote, from its manifest (nil when the bytes are not a dump
    /// manifest): its folders and each entry's `.bin`, `.npy` and float twins.
    static func previousFiles(_ manifest: Data) -> Set<String>? {
        guard let m = try? JSONDecoder().decode(DumpManifest.self, from: manifest), m.format == DumpManifest.formatName else { return nil }
        var files: Set<String> = ["int8/", "params/", "float/"]
        for path in (m.nodes + m.parameters).flatMap({ [$0.file] + ($0.floatFile.map { [$0] } ?? []) }) where path.hasSuffix(".bin") {
            files.insert(path)
            files.insert(String(path.dropLast(4)) + ".npy")
        }
        return files
    }

    /// Refuses, before any work, a `dir` that `write` would refuse: an existing file, or a folder
    /// that is neither empty nor a previous dump holding only what that dump wrote.
    /// - Throws: `OctetTensorError.writeFailed`.
    public static func checkTarget(_ dir: String) throws {
        try AtomicFile.checkDirectoryTarget(dir, marker: "manifest.json", previousFiles: previousFiles)
    }

    /// Runs `program` on `feeds` and writes the dump to `dir`: the whole folder or nothing (it is
    /// written beside `dir` and renamed; a previous dump there is replaced).
    /// - Throws: emulator errors (before anything is written), `OctetTensorError.writeFailed`
    ///   (also when `dir` is an existing file, or a folder that is neither empty nor a previous dump).
    @discardableResult
    public static func write(_ program: Program, feeds: [String: Tensor], to dir: String,
                             threads: Int = KernelConfig.threads) throws -> DumpManifest {
        let emulator = try Emulator(program: program, threads: threads)
        let run = try emulator.run(feeds, capture: true)
        let floats = try floatOutputs(program, feeds, samples: try emulator.sampleCount(feeds))
        var manifest = DumpManifest(target: program.target, inputShapes: feeds.mapValues(\.shape), nodes: [], parameters: [])
        try AtomicFile.writeDirectory(at: dir, marker: "manifest.json", previousFiles: previousFiles) { tmp in
            let fm = FileManager.default
            for sub in ["int8", "params", "float"] { try fm.createDirectory(atPath: "\(tmp)/\(sub)", withIntermediateDirectories: true) }
            var names = FileNames()
            for ins in program.instructions {
                let tensors = ins.output.map { [$0] } ?? (ins.kind == .fused ? [] : program.graph.nodes[ins.nodeIndex].outputs)
                for t in tensors {
                    guard let v = run.tensors[t] else { continue }
                    let base = names.unique(ins.node)
                    try writeInt8(v.codes, "\(tmp)/int8/\(base)")
                    var e = DumpEntry(node: ins.node, tensor: t, kind: ins.kind.rawValue, device: ins.device.rawValue,
                                      shape: v.codes.shape, fixPos: v.fixPos, file: "int8/\(base).bin", floatFile: nil)
                    if let f = floats[t] {
                        try writeRaw(f, "\(tmp)/float/\(base)")
                        e.floatFile = "float/\(base).bin"
                    }
                    manifest.nodes.append(e)
                }
            }
            for (name, codes) in program.constants.sorted(by: { $0.key < $1.key }) {
                let base = names.unique("param_" + name)
                try writeInt8(codes, "\(tmp)/params/\(base)")
                manifest.parameters.append(DumpEntry(node: name, tensor: name, kind: "parameter", device: "dpu", shape: codes.shape,
                                                     fixPos: program.fixPos[name] ?? 0, file: "params/\(base).bin", floatFile: nil))
            }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try enc.encode(manifest), to: "\(tmp)/manifest.json")
        }
        return manifest
    }

    /// Float32 output of every node of the program's float graph on `n` samples (run in chunks of
    /// the program's batch size, as the emulator runs them).
    static func floatOutputs(_ p: Program, _ feeds: [String: Tensor], samples n: Int) throws -> [String: Tensor] {
        var parts: [String: [Tensor]] = [:]
        let exec = try Executor(graph: p.graph)
        try TensorBatch.forEachChunk(feeds, samples: n, batchSize: p.batchSize) { chunk in
            var seen: [String: Tensor] = [:]
            _ = try exec.run(chunk) { _, node, outputs in
                for (name, t) in zip(node.outputs, outputs) where t.dtype == .float32 { seen[name] = t }
            }
            for (name, t) in seen { parts[name, default: []].append(t) }
        }
        return try Dictionary(uniqueKeysWithValues: parts.map { ($0.key, try TensorBatch.join($0.value, name: $0.key, samples: n, batchSize: p.batchSize)) })
    }

    static func writeInt8(_ t: Tensor, _ base: String) throws {
        try writeRaw(t, base)
    }

    /// `<base>.bin` (raw little-endian elements) and `<base>.npy`.
    static func writeRaw(_ t: Tensor, _ base: String) throws {
        let data: Data
        switch t.storage {
        case .int8(let a): data = a.withUnsafeBytes { Data($0) }
        case .float32(let a): data = a.withUnsafeBytes { Data($0) }
        default: data = ProgramProtoCoding.tensor(t).raw
        }
        try AtomicFile.write(data, to: base + ".bin")
        try NPY.write(t, path: base + ".npy")
    }

    /// File-system-safe, unique names.
    struct FileNames {
        var used: Set<String> = []
        mutating func unique(_ name: String) -> String {
            var safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" })
            while safe.utf8.count > 100 { safe.removeLast() }  // file names stay far below the 255-byte limit
            var candidate = safe.isEmpty ? "tensor" : safe, k = 1
            while used.contains(candidate) { k += 1; candidate = "\(safe)_\(k)" }
            used.insert(candidate)
            return candidate
        }
    }
}
