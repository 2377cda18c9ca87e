import KarstCore

/// Reads `[[datacenters]]` and their `[[datacenters.pools]]`, validating capacities, energy
/// figures and the RTT table against the declared regions.
struct DatacenterReader {
    let sink: IssueSink
    let regions: [Region]

    func readAll(_ root: inout TableReader) -> [Datacenter] {
        var out: [Datacenter] = []
        var ids = DuplicateCheck(sink: sink)
        let tables = root.tables("datacenters", required: true)
        if tables.count > ConfigBounds.maxDatacenters {
            root.add("datacenters", "at most \(ConfigBounds.maxDatacenters) data centres are supported")
        }
        for var t in tables {
            let dc = read(&t)
            t.finish()
            if let dc, ids.check(dc.id, at: t.keyPath("id")) { out.append(dc) }
        }
        return out
    }

    private func read(_ t: inout TableReader) -> Datacenter? {
        let id = t.string("id", required: true)
        let name = t.string("name") ?? id ?? ""
        let op = t.string("operator", required: true)
        let pue = t.number("pue", in: ConfigBounds.pue, required: true)
        let clean = readCurve(&t, "clean_share", range: 0...1, unit: "a share between 0 and 1")
        let price = readCurve(&t, "price_cny_per_kwh", range: 0...100, unit: "a price between 0 and 100")
        let rtt = readRTT(&t)
        let pools = readPools(&t)
        var executor = Executor.model
        if let text = t.string("executor") {
            if let e = Executor(rawValue: text) { executor = e } else {
                t.add("executor", "must be \"model\" or \"agents\", not \"\(text)\"")
            }
        }
        guard let id, let op, let pue, let clean, let price, let rtt, !pools.isEmpty else { return nil }
        return Datacenter(id: id, name: name, operatorName: op, pue: pue, cleanShareByHour: clean,
                          priceByHour: price, rttMs: rtt, pools: pools, executor: executor)
    }

    /// A value that is either one number (flat all day) or 24 hourly numbers.
    private func readCurve(_ t: inout TableReader, _ key: String, range: ClosedRange<Double>,
                           unit: String) -> [Double]? {
        let raw = t.table[key]?.array != nil
            ? t.numbers(key, required: true) : t.number(key, required: true).map { [$0] }
        guard let values = raw else { return nil }
        guard values.count == 1 || values.count == 24 else {
            t.add(key, "must be one number or 24 hourly numbers, found \(values.count)")
            return nil
        }
        for (i, v) in values.enumerated() where !range.contains(v) {
            t.add(values.count == 1 ? key : "\(key)[\(i)]", "must be \(unit)")
            return nil
        }
        return values.count == 1 ? Array(repeating: values[0], count: 24) : values
    }

    private func readRTT(_ t: inout TableReader) -> [Double]? {
        guard var r = t.table("rtt_ms", required: true) else { return nil }
        var out: [Double] = []
        var ok = true
        for region in regions {
            guard let v = r.number(region.id) else {
                r.add(region.id, "missing: every region needs a latency entry")
                ok = false
                continue
            }
            guard ConfigBounds.rttMs.contains(v) else {
                r.add(region.id, "must be between 0 and \(formatNumber(ConfigBounds.rttMs.upperBound)), not \(formatNumber(v))")
                ok = false
                continue
            }
            out.append(v)
        }
        for key in r.table.keys.sorted() where !regions.contains(where: { $0.id == key }) {
            r.add(key, "is not a declared region")
            ok = false
            _ = r.number(key)
        }
        return ok ? out : nil
    }

    private func readPools(_ t: inout TableReader) -> [Pool] {
        var out: [Pool] = []
        var ids = DuplicateCheck(sink: sink)
        for var p in t.tables("pools", required: true) {
            let id = p.string("id", required: true)
            typealias B = ConfigBounds
            let cpu = p.number("cpu", in: B.poolCPU, required: true)
            let mem = p.number("memory_gib", in: B.poolMemoryGiB, required: true)
            let acc = p.int("accelerators", in: B.poolAccelerators) ?? 0
            let model = p.string("accelerator_model")
            let wpc = p.number("watts_per_core", in: B.wattsPerCore) ?? 10
            let wpa = p.number("watts_per_accelerator", in: B.wattsPerAccelerator) ?? 400
            if model != nil && acc <= 0 { p.add("accelerators", "must be greater than 0 when accelerator_model is set") }
            if model == nil && acc > 0 { p.add("accelerator_model", "is required when accelerators is set") }
            p.finish()
            guard let id, ids.check(id, at: p.keyPath("id")), let cpu, let mem else {
                continue
            }
            out.append(Pool(id: id, capacity: Resources(cpu: cpu, memoryGiB: mem, accelerators: acc),
                            acceleratorModel: model, wattsPerCore: wpc, wattsPerAccelerator: wpa))
        }
        return out
    }
}
