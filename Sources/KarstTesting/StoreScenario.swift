import KarstCore

/// A small scenario's state for store tests: pending, held, running (with and without
/// durations), finished jobs, labels, windows, two tenants, two data centres.
public func storeScenario() throws -> ScenarioHarness {
    let topo = TopologyBuilder().datacenter("a", pools: [("cpu", 16, 64, 0, nil)])
        .datacenter("b", pools: [("cpu", 16, 64, 0, nil), ("npu", 32, 256, 8, "ascend-910b")]).topology
    var h = ScenarioHarness(topo)
    try h.submit(.job("long").cpu(8).lasting(3600))
    try h.submit(.job("forever").cpu(8))
    try h.submit(.job("train").cpu(8).accelerators(4, model: "ascend-910b").lasting(600).priority(3))
    h.tick()
    try h.submit(.job("waits").cpu(16).tenant("t2"))
    try h.submit(.job("waits-too").cpu(16).priority(5))
    try h.submit(.job("held").cpu(1))
    let held = h.state.jobs(state: .pending).last!.id
    h.record([try h.state.hold(held, now: h.now)])
    try h.submit(.job("labelled").cpu(1).only("a").notBefore(h.now.advanced(bySeconds: 7200))
        .with { $0.labels = ["team": "blue"]; $0.maxLatencyMs = 50 })
    h.run(seconds: 700)  // "train" completes
    return h
}
