/// The Karst release this build is.
public enum KarstVersion {
    public static let current = "0.2.0"
}
