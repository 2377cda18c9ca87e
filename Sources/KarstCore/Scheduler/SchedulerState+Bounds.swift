extension SchedulerState {
    /// Checks every value of a new job's spec against `SpecBounds` (and the configured maximum
    /// duration). Each failure is `InvalidJob` naming the field and stating the bound it broke.
    /// Sizes have no upper bound here: a job larger than every pool is `Unschedulable`, from
    /// `admit`, with the size it exceeds.
    static func checkBounds(_ spec: JobSpec, settings: SchedulerSettings) throws(SchedulerError) {
        typealias B = SpecBounds
        func invalid(_ field: String, _ reason: String) -> SchedulerError { .invalidJob(field: field, reason: reason) }
        let r = spec.resources
        guard r.cpu.isFinite, r.cpu == 0 || r.cpu >= B.minCPU else {
            throw invalid("resources.cpu", "must be 0 or a finite number of cores ≥ \(B.minCPU) (one milli-core), not \(r.cpu)")
        }
        guard r.memoryGiB.isFinite, r.memoryGiB == 0 || r.memoryGiB >= B.minMemoryGiB else {
            throw invalid("resources.memoryGiB",
                          "must be 0 or a finite number of GiB ≥ \(B.minMemoryGiB) (one MiB), not \(r.memoryGiB)")
        }
        guard r.accelerators >= 0 else {
            throw invalid("resources.accelerators", "must be 0 or more, not \(r.accelerators)")
        }
        guard r.cpu > 0 || r.memoryGiB > 0 || r.accelerators > 0 else {
            throw invalid("resources", "asks for nothing; give cpu, memoryGiB or accelerators")
        }
        if r.acceleratorModel != nil && r.accelerators == 0 {
            throw invalid("resources.acceleratorModel", "names a model but accelerators is 0")
        }
        try within(spec.replicas, B.replicas, "replicas")
        try within(spec.priority, B.priority, "priority")
        try within(spec.maxRetries, B.maxRetries, "maxRetries")
        if let d = spec.durationSeconds {
            let most = settings.maxDurationSeconds
            guard d.isFinite, d > 0, d <= most else {
                throw invalid("durationSeconds", "must be greater than 0 and at most \(formatNumber(most)) "
                    + "(the configured max_duration_seconds), not \(formatNumber(d))")
            }
        }
        if let l = spec.maxLatencyMs, !B.maxLatencyMs.contains(l) {
            throw invalid("maxLatencyMs", "must be between \(formatNumber(B.maxLatencyMs.lowerBound)) and "
                + "\(formatNumber(B.maxLatencyMs.upperBound)), not \(formatNumber(l))")
        }
        try inWindow(spec.deadline, "deadline")
        try inWindow(spec.notBefore, "notBefore")
        try inWindow(spec.notAfter, "notAfter")
        try most(spec.dependsOn.count, B.maxDependencies, "dependsOn", "entries")
        try most(spec.datacenters?.count ?? 0, B.maxDatacenters, "datacenters", "entries")
        try most(spec.name?.utf8.count ?? 0, B.maxNameBytes, "name", "bytes")
        if let tenant = spec.tenant {
            guard !tenant.isEmpty else { throw invalid("tenant", "must not be empty") }
            try most(tenant.utf8.count, B.maxTenantBytes, "tenant", "bytes")
            // The tenant is a column of its own: PostgreSQL's text cannot hold a NUL byte, and a
            // batch carrying one would fail whole, every other call of it with it. (The rest of
            // the spec is stored as JSON, where a NUL is escaped.)
            guard !tenant.utf8.contains(0) else { throw invalid("tenant", "must not contain a NUL byte (stored text cannot hold one)") }
        }
        try most(spec.labels.count, B.maxLabels, "labels", "entries")
        if !spec.labels.isEmpty {
            var total = 0
            for (key, value) in spec.labels {
                guard !key.isEmpty else { throw invalid("labels", "a key must not be empty") }
                try most(key.utf8.count, B.maxLabelKeyBytes, "labels", "bytes in a key")
                try most(value.utf8.count, B.maxLabelValueBytes, "labels.\(key)", "bytes")
                total += key.utf8.count + value.utf8.count
            }
            try most(total, B.maxLabelBytesTotal, "labels", "bytes of keys and values together")
        }
        try checkCommand(spec)
    }

    /// `command`, `environment` and `workingDirectory` against `SpecBounds`: what a site agent
    /// hands to exec, so no NUL byte anywhere (exec's strings end at the first one).
    private static func checkCommand(_ spec: JobSpec) throws(SchedulerError) {
        typealias B = SpecBounds
        func invalid(_ field: String, _ reason: String) -> SchedulerError { .invalidJob(field: field, reason: reason) }
        let noNUL = "must not contain a NUL byte (exec cannot carry one)"
        if spec.command.isEmpty {
            // Without a command nothing would use them: a mistake worth naming, not ignoring.
            if !spec.environment.isEmpty { throw invalid("environment", "is only for a job with a command") }
            if spec.workingDirectory != nil { throw invalid("workingDirectory", "is only for a job with a command") }
        }
        if !spec.command.isEmpty {
            try most(spec.command.count, B.maxCommandArguments, "command", "arguments")
            guard !spec.command[0].isEmpty else { throw invalid("command[0]", "the program must not be empty") }
            var total = 0
            for (i, argument) in spec.command.enumerated() {
                let bytes = argument.utf8.count
                try most(bytes, B.maxCommandArgumentBytes, "command[\(i)]", "bytes")
                guard !argument.utf8.contains(0) else { throw invalid("command[\(i)]", noNUL) }
                total += bytes
            }
            try most(total, B.maxCommandBytesTotal, "command", "bytes of arguments together")
        }
        if !spec.environment.isEmpty {
            try most(spec.environment.count, B.maxEnvironmentEntries, "environment", "entries")
            var total = 0
            // In key order, so that of several faults the same one is named every time.
            for (key, value) in spec.environment.sorted(by: { $0.key < $1.key }) {
                guard !key.isEmpty else { throw invalid("environment", "a key must not be empty") }
                guard !key.utf8.contains(0) else { throw invalid("environment", "a key \(noNUL)") }
                guard !key.utf8.contains(UInt8(ascii: "=")) else {
                    throw invalid("environment.\(key)", "the key must not contain '=' (it ends a variable's name)")
                }
                guard !value.utf8.contains(0) else { throw invalid("environment.\(key)", noNUL) }
                total += key.utf8.count + value.utf8.count
            }
            try most(total, B.maxEnvironmentBytesTotal, "environment", "bytes of keys and values together")
        }
        if let dir = spec.workingDirectory {
            try most(dir.utf8.count, B.maxWorkingDirectoryBytes, "workingDirectory", "bytes")
            guard !dir.utf8.contains(0) else { throw invalid("workingDirectory", noNUL) }
            guard dir.hasPrefix("/") else {
                throw invalid("workingDirectory", "must be an absolute path (starting with '/'), not \"\(dir)\"")
            }
        }
    }

    /// A time in `SpecBounds.times`, or `InvalidJob` stating the window.
    @inline(__always)
    private static func inWindow(_ t: Instant?, _ field: String) throws(SchedulerError) {
        guard let t, !SpecBounds.times.contains(t) else { return }
        throw .invalidJob(field: field, reason: "must be from \(SpecBounds.times.lowerBound) up to (not including) "
            + "\(SpecBounds.times.upperBound), not \(t)")
    }

    /// `value` in `range`, or `InvalidJob` stating the range.
    private static func within(_ value: Int, _ range: ClosedRange<Int>, _ field: String) throws(SchedulerError) {
        guard range.contains(value) else {
            throw .invalidJob(field: field, reason: "must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
    }

    /// `count` at most `limit`, or `InvalidJob` stating the limit and the unit counted.
    private static func most(_ count: Int, _ limit: Int, _ field: String, _ unit: String) throws(SchedulerError) {
        guard count <= limit else {
            throw .invalidJob(field: field, reason: "at most \(limit) \(unit), not \(count)")
        }
    }
}
