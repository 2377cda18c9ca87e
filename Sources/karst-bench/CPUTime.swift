#if canImport(Glibc)
import Glibc
#endif

extension rusage {
    /// User and system CPU time, in seconds.
    var cpuSeconds: Double {
        Double(ru_utime.tv_sec + ru_stime.tv_sec) + Double(ru_utime.tv_usec + ru_stime.tv_usec) / 1e6
    }
}

/// This process's CPU time so far (user and system, every thread), in seconds.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return u.cpuSeconds
}
