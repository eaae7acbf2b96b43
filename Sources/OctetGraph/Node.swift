import OctetTensor

/// One operator application. `opType` is spelled as in ONNX (`Conv`, `Relu`, ...).
/// An empty string in `inputs` marks an omitted optional input.
public struct Node: Sendable, Equatable {
    public var name: String
    public var opType: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// A short label for messages: `name (OpType)`.
    public var label: String { "\(name.isEmpty ? outputs.first ?? "?" : name) (\(opType))" }
}

/// Typed attribute lookup; a present attribute of the wrong kind throws
/// `OctetGraphError.badAttribute` naming the node.
extension Node {
    public func int(_ key: String) throws -> Int? {
        guard let a = attributes[key] else { return nil }
        if case .int(let v) = a { return v }
        throw OctetGraphError.badAttribute(node: label, attribute: key, reason: "expected an integer")
    }
    public func int(_ key: String, default d: Int) throws -> Int { try int(key) ?? d }

    public func float(_ key: String) throws -> Float? {
        guard let a = attributes[key] else { return nil }
        if case .float(let v) = a { return v }
        if case .int(let v) = a { return Float(v) }
        throw OctetGraphError.badAttribute(node: label, attribute: key, reason: "expected a float")
    }
    public func float(_ key: String, default d: Float) throws -> Float { try float(key) ?? d }

    public func ints(_ key: String) throws -> [Int]? {
        guard let a = attributes[key] else { return nil }
        if case .ints(let v) = a { return v }
        throw OctetGraphError.badAttribute(node: label, attribute: key, reason: "expected a list of integers")
    }
    public func floats(_ key: String) throws -> [Float]? {
        guard let a = attributes[key] else { return nil }
        if case .floats(let v) = a { return v }
        throw OctetGraphError.badAttribute(node: label, attribute: key, reason: "expected a list of floats")
    }
    public func string(_ key: String) throws -> String? {
        guard let a = attributes[key] else { return nil }
        if case .string(let v) = a { return v }
        throw OctetGraphError.badAttribute(node: label, attribute: key, reason: "expected a string")
    }
    public func string(_ key: String, default d: String) throws -> String { try string(key) ?? d }
    public func tensor(_ key: String) throws -> Tensor? {
        guard let a = attributes[key] else { return nil }
        if case .tensor(let v) = a { return v }
        throw OctetGraphError.badAttribute(node: label, attribute: key, reason: "expected a tensor")
    }
}
