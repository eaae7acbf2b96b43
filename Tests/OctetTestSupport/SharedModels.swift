import Foundation
import OctetTensor
import XCTest

/// Access to the real models and data in `../shared` (beside the repository), described by
/// `shared/data/manifest.json`. Tests call `SharedModels.require()` and are skipped with a
/// clear message where the folder is absent.
public struct SharedModel {
    public let name: String
    public let modelPath: String
    public let inputName: String
    public let outputNames: [String]
    let root: String
    let splits: [String: Any]

    /// The float32 input of a split ("calib" or "eval"), preprocessed as the manifest says.
    public func input(_ split: String) throws -> Tensor {
        let s = splits[split] as! [String: Any]
        if let p = s["input"] as? String { return try NPY.read(path: "\(root)/\(p)") }
        let u8 = try NPY.read(path: "\(root)/\(s["input_u8"] as! String)")
        let (offset, scale) = Self.parsePreprocess(s["preprocess"] as! String)
        return Tensor(shape: u8.shape, floats: u8.uint8s.map { (Float($0) - offset) / scale })
    }

    /// Labels of the eval split, if the model has them.
    public func labels() throws -> [Int]? {
        let s = splits["eval"] as! [String: Any]
        guard let p = s["labels"] as? String else { return nil }
        return try NPY.read(path: "\(root)/\(p)").asInt64Array().map { Int($0) }
    }

    /// onnxruntime float reference outputs on the eval split, by output name.
    public func referenceOutputs() throws -> [String: Tensor] {
        let s = splits["eval"] as! [String: Any]
        let refs = s["onnxruntime_float_outputs"] as! [String: String]
        return try refs.mapValues { try NPY.read(path: "\(root)/\($0)") }
    }

    /// "x = (u8 - 127.0) / 128.0 as float32" → (127, 128).
    static func parsePreprocess(_ text: String) -> (Float, Float) {
        let body = text.components(separatedBy: " as ").first ?? text
        let nums = body.split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Float($0) }
        return (nums.count >= 2 ? nums[nums.count - 2] : 0, nums.last ?? 1)
    }
}

public enum SharedModels {
    /// The shared folder: `$OCTET_SHARED`, else `../shared` beside the repository root.
    public static var root: String? {
        if let env = ProcessInfo.processInfo.environment["OCTET_SHARED"] { return env }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let candidate = url.deletingLastPathComponent().appendingPathComponent("shared").path
        return FileManager.default.fileExists(atPath: candidate + "/data/manifest.json") ? candidate : nil
    }

    /// All models of the manifest, or an XCTSkip explaining that ../shared is absent.
    public static func require() throws -> [SharedModel] {
        guard let root else {
            throw XCTSkip("../shared (real models and data) not found beside the repository; set OCTET_SHARED to run these checks")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(root)/data/manifest.json"))
        let manifest = try JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
        return manifest.keys.sorted().map { name in
            let e = manifest[name]!
            return SharedModel(name: name, modelPath: "\(root)/\(e["model"] as! String)", inputName: e["input_name"] as! String,
                               outputNames: e["output_names"] as! [String], root: root, splits: e["splits"] as! [String: Any])
        }
    }

    public static func require(_ name: String) throws -> SharedModel {
        guard let m = try require().first(where: { $0.name == name }) else { throw XCTSkip("shared model \(name) not in manifest") }
        return m
    }
}
