/// A pool of interchangeable capacity inside a data centre: general CPU servers, or servers with
/// accelerators of one model.
///
/// Pools are modelled as aggregate capacity (no individual servers): a job fits when its whole
/// demand fits in the pool's free vector.
public struct Pool: Hashable, Sendable {
    /// Stable id, unique within its data centre (e.g. `cpu`, `npu`, `gpu`).
    public var id: String
    /// Total capacity offered to the scheduler.
    public var capacity: Resources
    /// The accelerator model of this pool (`ascend-910b`, `a800`…); nil for a general CPU pool.
    public var acceleratorModel: String?
    /// Power drawn per busy core, in watts (for energy and carbon estimates).
    public var wattsPerCore: Double
    /// Power drawn per busy accelerator, in watts.
    public var wattsPerAccelerator: Double

    public init(id: String, capacity: Resources, acceleratorModel: String? = nil,
                wattsPerCore: Double = 10, wattsPerAccelerator: Double = 400) {
        self.id = id
        self.capacity = capacity
        self.acceleratorModel = acceleratorModel
        self.wattsPerCore = wattsPerCore
        self.wattsPerAccelerator = wattsPerAccelerator
    }

    /// True for a pool whose servers carry accelerators.
    public var isAcceleratorPool: Bool { acceleratorModel != nil }
}
