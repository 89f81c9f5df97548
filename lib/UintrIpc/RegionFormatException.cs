namespace UintrIpc;

/// <summary>
/// A region's header does not describe a valid UintrIpc region: the creator is
/// incompatible, the file is not ours, or a peer corrupted it. Nothing in the region
/// has been used when this is thrown.
/// </summary>
public sealed class RegionFormatException : UintrIpcException
{
    /// <summary>Creates the exception for one header field.</summary>
    public RegionFormatException(string field, string expected, string found, string? hint = null)
        : base($"Invalid UintrIpc region header: {field} should be {expected} but is {found}." + (hint is null ? string.Empty : " " + hint))
    {
        Field = field;
        Expected = expected;
        Found = found;
    }

    /// <summary>The header field that failed validation.</summary>
    public string Field { get; }

    /// <summary>What the field should hold.</summary>
    public string Expected { get; }

    /// <summary>What the field holds.</summary>
    public string Found { get; }
}
