using System.Text;

namespace UintrIpc.Channels;

/// <summary>
/// The element type fingerprint a slot channel's creator records in its ring descriptors
/// (uintripc.h 2i): FNV-1a 64 over the UTF-8 of the type's assembly-free full name, then over
/// its size (u32, little-endian); 0 becomes 1, since 0 means "not recorded". A guard against
/// opening a channel with another type of the same size, not a security check.
/// </summary>
internal static class ElementFingerprint
{
    private const ulong OffsetBasis = 0xcbf29ce484222325;
    private const ulong Prime = 0x100000001b3;

    /// <summary>The fingerprint of <paramref name="type"/>, whose elements are <paramref name="size"/> bytes.</summary>
    internal static ulong Of(Type type, int size)
    {
        ulong hash = OffsetBasis;
        foreach (byte b in Encoding.UTF8.GetBytes(NameOf(type)))
        {
            hash = (hash ^ b) * Prime;
        }

        for (int shift = 0; shift < 32; shift += 8)
        {
            hash = (hash ^ (byte)((uint)size >> shift)) * Prime;
        }

        return hash == 0 ? 1 : hash;
    }

    /// <summary>
    /// The full name without assembly qualification: "System.Int64", "My.Outer+Point", and a
    /// constructed generic type as its definition's name with its arguments' names in brackets,
    /// "My.Pair`2[System.Int32,System.Double]" (Type.FullName would qualify the arguments).
    /// </summary>
    internal static string NameOf(Type type)
    {
        if (!type.IsConstructedGenericType)
        {
            return type.FullName ?? type.Name;
        }

        string definition = type.GetGenericTypeDefinition().FullName ?? type.Name;
        return $"{definition}[{string.Join(',', type.GenericTypeArguments.Select(NameOf))}]";
    }
}
