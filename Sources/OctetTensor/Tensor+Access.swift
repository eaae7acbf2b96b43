/// Typed element access. Accessors for the wrong dtype trap: callers check `dtype`
/// first or convert with `converted(to:)`.
extension Tensor {
    public var floats: [Float] {
        get { if case .float32(let a) = storage { return a }; preconditionFailure("tensor is \(dtype), not float32") }
        set { storage = .float32(newValue) }
    }
    public var int8s: [Int8] {
        get { if case .int8(let a) = storage { return a }; preconditionFailure("tensor is \(dtype), not int8") }
        set { storage = .int8(newValue) }
    }
    public var int32s: [Int32] {
        get { if case .int32(let a) = storage { return a }; preconditionFailure("tensor is \(dtype), not int32") }
        set { storage = .int32(newValue) }
    }
    public var int64s: [Int64] {
        get { if case .int64(let a) = storage { return a }; preconditionFailure("tensor is \(dtype), not int64") }
        set { storage = .int64(newValue) }
    }
    public var uint8s: [UInt8] {
        get { if case .uint8(let a) = storage { return a }; preconditionFailure("tensor is \(dtype), not uint8") }
        set { storage = .uint8(newValue) }
    }

    /// Read-only pointer to float32 elements.
    @inlinable
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        guard case .float32(let a) = storage else { preconditionFailure("tensor is \(dtype), not float32") }
        return try a.withUnsafeBufferPointer(body)
    }

    /// Mutable pointer to float32 elements without copying a uniquely held buffer.
    @inlinable
    public mutating func withMutableFloats<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        guard case .float32(var a) = storage else { preconditionFailure("tensor is \(dtype), not float32") }
        storage = .float32([])
        defer { storage = .float32(a) }
        return try a.withUnsafeMutableBufferPointer { try body($0) }
    }

    @inlinable
    public func withInt8s<R>(_ body: (UnsafeBufferPointer<Int8>) throws -> R) rethrows -> R {
        guard case .int8(let a) = storage else { preconditionFailure("tensor is \(dtype), not int8") }
        return try a.withUnsafeBufferPointer(body)
    }

    @inlinable
    public mutating func withMutableInt8s<R>(_ body: (UnsafeMutableBufferPointer<Int8>) throws -> R) rethrows -> R {
        guard case .int8(var a) = storage else { preconditionFailure("tensor is \(dtype), not int8") }
        storage = .int8([])
        defer { storage = .int8(a) }
        return try a.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Elements as Int64 (for shape-like integer tensors of any integer dtype, or float).
    public func asInt64Array() -> [Int64] {
        switch storage {
        case .int64(let a): return a
        case .int32(let a): return a.map(Int64.init)
        case .int8(let a): return a.map(Int64.init)
        case .uint8(let a): return a.map(Int64.init)
        case .float32(let a): return a.map { Int64($0) }
        }
    }

    /// Elements as Float (exact for int8/uint8/int32 of magnitude < 2^24).
    public func asFloatArray() -> [Float] {
        switch storage {
        case .float32(let a): return a
        case .int8(let a): return a.map(Float.init)
        case .uint8(let a): return a.map(Float.init)
        case .int32(let a): return a.map(Float.init)
        case .int64(let a): return a.map(Float.init)
        }
    }

    /// Element-wise conversion; float → integer truncates toward zero like ONNX Cast.
    public func converted(to target: DType) -> Tensor {
        if target == dtype { return self }
        switch target {
        case .float32: return Tensor(shape: shape, floats: asFloatArray())
        case .int64: return Tensor(shape: shape, int64s: asInt64Array())
        case .int32: return Tensor(shape: shape, int32s: asInt64Array().map { Int32(truncatingIfNeeded: $0) })
        case .int8: return Tensor(shape: shape, int8s: asInt64Array().map { Int8(truncatingIfNeeded: $0) })
        case .uint8: return Tensor(shape: shape, uint8s: asInt64Array().map { UInt8(truncatingIfNeeded: $0) })
        }
    }
}

extension Tensor {
    /// The sample (index along axis 0 of [N, …]) and value of the first NaN or ±∞ of a float32
    /// tensor; nil for other dtypes, an empty tensor or finite values.
    public func firstNonFinite() -> (sample: Int, value: Float)? {
        guard dtype == .float32, count > 0 else { return nil }
        let per = Swift.max(1, count / Swift.max(1, shape.first ?? 1))
        return withFloats { p in p.firstIndex { !$0.isFinite }.map { (sample: $0 / per, value: p[$0]) } }
    }
}
