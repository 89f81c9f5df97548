using System.Runtime.InteropServices;

namespace UintrIpc.Benchmarks.Rings;

/// <summary>An 8-byte element (a 16-byte slot).</summary>
public struct Payload8
{
    public long Value { get; set; }
}

/// <summary>A 64-byte element (a 72-byte slot).</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
public struct Payload64
{
    public long Value { get; set; }
}

/// <summary>A 256-byte element (a 264-byte slot).</summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
public struct Payload256
{
    public long Value { get; set; }
}
