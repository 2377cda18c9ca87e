/// Small configuration files for tests: one region (`local`), one class (`batch`), and the data
/// centres given, each with one CPU pool.
public enum TestConfigs {
    public static func toml(datacenters: [(id: String, cpu: Int, memoryGiB: Int)]) -> String {
        var text = """
            [[regions]]
            id = "local"

            [[classes]]
            id = "batch"
            base_priority = 1
            default_latency_ms = 10

            """
        for dc in datacenters {
            text += """

                [[datacenters]]
                id = "\(dc.id)"
                operator = "x"
                pue = 1.2
                clean_share = 0.5
                price_cny_per_kwh = 0.3
                rtt_ms = { local = 1 }
                [[datacenters.pools]]
                id = "cpu"
                cpu = \(dc.cpu)
                memory_gib = \(dc.memoryGiB)

                """
        }
        return text
    }
}
