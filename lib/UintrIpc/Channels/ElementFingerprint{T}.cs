namespace UintrIpc.Channels;

/// <summary>The fingerprint of <typeparamref name="T"/> (uintripc.h 2i), computed once per type: creation and open only, never a hot path.</summary>
/// <typeparam name="T">A channel's element type.</typeparam>
internal static class ElementFingerprint<T>
    where T : unmanaged
{
    /// <summary>FNV-1a 64 of <typeparamref name="T"/>'s name and size (see <see cref="ElementFingerprint"/>).</summary>
    internal static readonly ulong Value = Compute();

    private static unsafe ulong Compute() => ElementFingerprint.Of(typeof(T), sizeof(T));
}
