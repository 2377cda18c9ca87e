/// `io.karst.Admin.Capacity` on the wire.
public struct WireCapacity: Hashable, Sendable {
    public var cpu: Double
    public var memoryGiB: Double
    public var accelerators: Int

    public init(cpu: Double, memoryGiB: Double, accelerators: Int) {
        self.cpu = cpu
        self.memoryGiB = memoryGiB
        self.accelerators = accelerators
    }

    public init(_ r: inout ParameterReader) throws(VarlinkError) {
        cpu = try r.requiredDouble("cpu")
        memoryGiB = try r.requiredDouble("memoryGiB")
        accelerators = try r.int("accelerators") ?? 0
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("cpu"); w.number(cpu)
        w.key("memoryGiB"); w.number(memoryGiB)
        w.key("accelerators"); w.number(accelerators)
        w.endObject()
    }
}

/// `io.karst.Admin.Pool` on the wire.
public struct WirePool: Hashable, Sendable {
    public var id: String
    public var acceleratorModel: String?
    public var capacity: WireCapacity
    public var allocated: WireCapacity
    public var free: WireCapacity
    public var running: Int

    public init(id: String, acceleratorModel: String?, capacity: WireCapacity, allocated: WireCapacity,
                free: WireCapacity, running: Int) {
        self.id = id
        self.acceleratorModel = acceleratorModel
        self.capacity = capacity
        self.allocated = allocated
        self.free = free
        self.running = running
    }

    public init(_ r: inout ParameterReader) throws(VarlinkError) {
        id = try r.requiredString("id")
        acceleratorModel = try r.string("acceleratorModel")
        var c = try r.requiredObject("capacity"), a = try r.requiredObject("allocated"), f = try r.requiredObject("free")
        capacity = try WireCapacity(&c)
        allocated = try WireCapacity(&a)
        free = try WireCapacity(&f)
        running = try r.int("running") ?? 0
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        if let acceleratorModel { w.key("acceleratorModel"); w.string(acceleratorModel) }
        w.key("capacity"); capacity.write(to: &w)
        w.key("allocated"); allocated.write(to: &w)
        w.key("free"); free.write(to: &w)
        w.key("running"); w.number(running)
        w.endObject()
    }
}

/// `io.karst.Admin.Datacenter` on the wire.
public struct WireDatacenter: Hashable, Sendable {
    public var id: String
    public var name: String
    public var operatorName: String
    public var state: String
    public var pue: Double
    public var pools: [WirePool]

    public init(id: String, name: String, operatorName: String, state: String, pue: Double, pools: [WirePool]) {
        self.id = id
        self.name = name
        self.operatorName = operatorName
        self.state = state
        self.pue = pue
        self.pools = pools
    }

    public init(_ r: inout ParameterReader) throws(VarlinkError) {
        id = try r.requiredString("id")
        name = try r.string("name") ?? id
        operatorName = try r.string("operator") ?? ""
        state = try r.requiredString("state")
        pue = try r.double("pue") ?? 0
        pools = []
        for var p in try r.objects("pools") ?? [] { pools.append(try WirePool(&p)) }
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("name"); w.string(name)
        w.key("operator"); w.string(operatorName)
        w.key("state"); w.string(state)
        w.key("pue"); w.number(pue)
        w.key("pools")
        w.beginArray()
        for p in pools { p.write(to: &w) }
        w.endArray()
        w.endObject()
    }
}
