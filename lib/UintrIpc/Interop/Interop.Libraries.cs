namespace UintrIpc.Interop;

/// <summary>Names of the native libraries the package calls.</summary>
internal static partial class Libraries
{
    /// <summary>The native shim built from interop/ (libuintripc.so).</summary>
    internal const string Shim = "uintripc";

    /// <summary>The C library.</summary>
    internal const string LibC = "libc.so.6";
}
