/// An n-dimensional array in row-major (C) order; images are NCHW.
///
/// `Tensor` is a copy-on-write value (`Sendable`): its elements live in a Swift array
/// inside `storage`, so copies share memory until one of them is mutated.
public struct Tensor: Sendable, Equatable {
    /// Element buffer, one case per `DType`.
    public enum Storage: Sendable, Equatable {
        case float32([Float])
        case int8([Int8])
        case uint8([UInt8])
        case int32([Int32])
        case int64([Int64])

        public var count: Int {
            switch self {
            case .float32(let a): return a.count
            case .int8(let a): return a.count
            case .uint8(let a): return a.count
            case .int32(let a): return a.count
            case .int64(let a): return a.count
            }
        }
    }

    /// Dimensions, outermost first. A scalar has shape `[]`.
    public private(set) var shape: [Int]
    public var storage: Storage

    public var dtype: DType {
        switch storage {
        case .float32: return .float32
        case .int8: return .int8
        case .uint8: return .uint8
        case .int32: return .int32
        case .int64: return .int64
        }
    }

    /// Number of elements (product of `shape`; 1 for a scalar).
    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// Creates a tensor from a storage whose element count must equal the shape's product.
    public init(shape: [Int], storage: Storage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(Tensor.elementCount(shape) == storage.count,
                     "shape \(shape) holds \(Tensor.elementCount(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    public init(shape: [Int], floats: [Float]) { self.init(shape: shape, storage: .float32(floats)) }
    public init(shape: [Int], int8s: [Int8]) { self.init(shape: shape, storage: .int8(int8s)) }
    public init(shape: [Int], int32s: [Int32]) { self.init(shape: shape, storage: .int32(int32s)) }
    public init(shape: [Int], int64s: [Int64]) { self.init(shape: shape, storage: .int64(int64s)) }
    public init(shape: [Int], uint8s: [UInt8]) { self.init(shape: shape, storage: .uint8(uint8s)) }

    /// A tensor of `dtype` filled with zeros.
    public init(zeros shape: [Int], dtype: DType = .float32) {
        let n = Tensor.elementCount(shape)
        switch dtype {
        case .float32: self.init(shape: shape, storage: .float32(Array(repeating: 0, count: n)))
        case .int8: self.init(shape: shape, storage: .int8(Array(repeating: 0, count: n)))
        case .uint8: self.init(shape: shape, storage: .uint8(Array(repeating: 0, count: n)))
        case .int32: self.init(shape: shape, storage: .int32(Array(repeating: 0, count: n)))
        case .int64: self.init(shape: shape, storage: .int64(Array(repeating: 0, count: n)))
        }
    }

    /// A float32 scalar (shape `[]`).
    public init(scalar: Float) { self.init(shape: [], floats: [scalar]) }

    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Elements of `shape` × `bytesPerElement`, or nil when a dimension is negative or the product
    /// does not fit in an `Int` (shapes read from files are checked with it before any allocation).
    public static func checkedByteCount(_ shape: [Int], bytesPerElement: Int = 1) -> Int? {
        var n = bytesPerElement
        for d in shape {
            guard d >= 0 else { return nil }
            let (m, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = m
        }
        return n
    }

    /// Same elements, new shape with the same element count.
    /// - Throws: `OctetTensorError.shapeMismatch` when the counts differ.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard Tensor.checkedByteCount(newShape) == count else {
            throw OctetTensorError.shapeMismatch("cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        var t = self
        t.shape = newShape
        return t
    }

    /// Replaces the shape in place; the element count must not change.
    public mutating func setShape(_ newShape: [Int]) {
        precondition(Tensor.elementCount(newShape) == count, "setShape \(shape) -> \(newShape)")
        shape = newShape
    }
}
