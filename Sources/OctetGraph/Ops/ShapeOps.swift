import OctetTensor

enum ShapeOps {
    static let kernels: [String: OpKernel] = [:]
}
