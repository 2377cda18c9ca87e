import KarstConfig
import KarstCore
import KarstProtocol
import KarstStore
import Logging

/// Group commit and what happens when the disk says no.
extension EngineCore {
    func storageUnavailable() -> VarlinkError {
        SchedulerInterface.StorageUnavailable(reason: storeProblem ?? "the state store is not writable").varlinkError
    }

    /// The batch to write for these events (and whatever else changed).
    func storeBatch(for events: [Event], extraJobs: [JobID], metaChanged: Bool) -> StoreBatch {
        let generation = generation
        return withState { state in
            Self.storeBatch(state, for: events, extraJobs: extraJobs, metaChanged: metaChanged, generation: generation)
        }
    }

    static func storeBatch(_ state: borrowing SchedulerState, for events: [Event], extraJobs: [JobID],
                           metaChanged: Bool, generation: Int) -> StoreBatch {
        var batch = StoreBatch()
        guard !events.isEmpty || !extraJobs.isEmpty || metaChanged else { return batch }
        batch.events = events
        var inserted = Set<JobID>(minimumCapacity: events.count)
        var touched: [JobID] = []
        var seen = Set<JobID>(minimumCapacity: events.count + extraJobs.count)
        touched.reserveCapacity(events.count)
        batch.inserted.reserveCapacity(events.count)
        for e in events {
            if e.kind == .submitted { inserted.insert(e.job.id) }
            if seen.insert(e.job.id).inserted { touched.append(e.job.id) }
        }
        for id in extraJobs where seen.insert(id).inserted { touched.append(id) }
        for id in touched {
            guard let job = state.job(id) else { continue }
            let r = state.record(of: job)
            if inserted.contains(id) { batch.inserted.append(r) } else { batch.updated.append(r) }
        }
        if !inserted.isEmpty { batch.nextJobNumber = state.nextJobNumberValue }
        if metaChanged {
            batch.datacenterStates = state.datacenterStatesByID
            batch.generation = generation
            batch.nextJobNumber = state.nextJobNumberValue
        }
        return batch
    }

    /// Commits the batch. On failure: puts the configuration (a reload in this batch) and the
    /// state back to what is on disk, enters degraded mode (mutations refused, scheduling
    /// paused, a write probe every pass) and returns false.
    func persist(_ batch: StoreBatch, configurationBefore: (configuration: KarstConfiguration, generation: Int)) -> Bool {
        guard let store, !batch.isEmpty else { return true }
        let started = clock.monotonicSeconds()
        do {
            try store.commit(batch)
            metrics.commit(seconds: clock.monotonicSeconds() - started, failed: false)
            return true
        } catch {
            metrics.commit(seconds: clock.monotonicSeconds() - started, failed: true)
            storeProblem = error.description
            logger.error("state not written, batch refused: \(error). Serving reads; retrying writes.",
                         metadata: ["storage": "unavailable"])
            if generation != configurationBefore.generation {
                // The reload is refused with the batch (its caller is told StorageUnavailable):
                // the configuration it replaced stays in force.
                configuration = configurationBefore.configuration
                generation = configurationBefore.generation
                let reason = "the reload could not be recorded: \(error)"
                lastReloadFailure = reason
                logger.error("reload refused; keeping configuration generation \(generation): \(reason)")
                onReload?(.failure(ConfigError(source: configPath ?? "built-in", issues: [ConfigIssue(path: "", message: reason)])))
            }
            rollBackToStore()
            return false
        }
    }

    /// Replaces the in-memory state with what the store holds (the last acknowledged state).
    func rollBackToStore() {
        guard let store else { return }
        do {
            let stored = try store.load()
            let (restored, _) = try SchedulerState.restore(
                topology: configuration.topology, records: stored.records, nextJobNumber: stored.nextJobNumber,
                datacenterStates: stored.datacenterStates, tenantOrder: state.tenantShares.map(\.tenant))
            state = restored
            stateAheadOfStore = false
        } catch {
            if store is any ReplicatedStore {
                // A shared database out of reach: it will be read back before any write is
                // taken (`probeStore`); a leader that stays cut off steps down with its lease.
                if !stateAheadOfStore {
                    logger.error("cannot re-read the state after a failed write (\(error)); serving reads from memory, which still show the refused batch, until the database answers")
                }
                stateAheadOfStore = true
                return
            }
            // Neither writable nor readable: what is in memory cannot be trusted to match what
            // was acknowledged. Exit, and let the service manager restart from disk.
            logger.critical("cannot re-read the state after a failed write (\(error)); exiting to recover from disk")
            exitProcess(70)
        }
    }

    /// In degraded mode, a write probe each pass; true when writes work again.
    func probeStore(now: Instant) -> Bool {
        guard let store, storeProblem != nil else { return true }
        if stateAheadOfStore {
            rollBackToStore()
            if stateAheadOfStore { return false }
        }
        do {
            try store.probe(at: now)
            logger.notice("the state store is writable again; accepting work")
            storeProblem = nil
            return true
        } catch {
            return false
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

func exitProcess(_ code: Int32) -> Never { exit(code) }
