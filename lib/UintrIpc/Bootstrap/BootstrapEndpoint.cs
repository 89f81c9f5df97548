using System.Text;
using UintrIpc.Interop;

namespace UintrIpc.Bootstrap;

/// <summary>
/// Where bootstrap processes meet, parsed from the string the public API takes: a Unix domain
/// socket bound to a filesystem path, or to a name in the abstract namespace (no file, vanishes
/// with the last socket; written <c>@name</c>).
/// </summary>
/// <remarks>
/// Abstract names have no file permissions: anyone in the same network namespace can
/// bind or connect to them. Both sides therefore check the other's credentials
/// (<see cref="PeerPolicy"/>); a client checks the server too, so a squatter cannot
/// impersonate it.
/// </remarks>
internal sealed record BootstrapEndpoint
{
    /// <summary>The longest path or abstract name in bytes (UTF-8), a limit of <c>struct sockaddr_un</c>.</summary>
    public const int MaxNameBytes = Sys.SunPathLength - 1;

    private BootstrapEndpoint(string name, bool isAbstract)
    {
        Name = name;
        IsAbstract = isAbstract;
    }

    /// <summary>The absolute socket path, or the abstract name without its '@'.</summary>
    public string Name { get; }

    /// <summary>Whether the endpoint is in the abstract namespace (no file).</summary>
    public bool IsAbstract { get; }

    /// <summary>An endpoint bound to a filesystem path (made absolute against the current directory).</summary>
    /// <exception cref="ArgumentException">The path is empty, contains NUL or is longer than <see cref="MaxNameBytes"/> bytes.</exception>
    public static BootstrapEndpoint FromPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        Validate(full, nameof(path), "path");
        return new BootstrapEndpoint(full, isAbstract: false);
    }

    /// <summary>An endpoint in the abstract namespace; <paramref name="name"/> is given without a leading '@'.</summary>
    /// <exception cref="ArgumentException">The name is empty, contains NUL or is longer than <see cref="MaxNameBytes"/> bytes.</exception>
    public static BootstrapEndpoint FromAbstractName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Validate(name, nameof(name), "abstract name");
        return new BootstrapEndpoint(name, isAbstract: true);
    }

    /// <summary>Parses <c>@name</c> as an abstract name and anything else as a path.</summary>
    /// <exception cref="ArgumentException">The name or path is empty, contains NUL or is longer than <see cref="MaxNameBytes"/> bytes.</exception>
    /// <remarks>
    /// The parameter is named as at every public caller (Listen, Connect, RpcServer.Start, RpcClient.Connect),
    /// so that their ArgumentException names the argument the user passed.
    /// </remarks>
    public static BootstrapEndpoint Parse(string endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        if (endpoint == "@")
        {
            throw new ArgumentException("The endpoint '@' has no name: write @name for an abstract socket, or a path for a socket file.", nameof(endpoint));
        }

        return endpoint[0] == '@' ? FromAbstractName(endpoint[1..]) : FromPath(endpoint);
    }

    /// <summary>The endpoint as <see cref="Parse"/> reads it: the path, or <c>@name</c>.</summary>
    public override string ToString() => IsAbstract ? "@" + Name : Name;

    /// <summary>Fills a <c>sockaddr_un</c> and returns the address length to pass to bind/connect.</summary>
    internal unsafe uint WriteAddress(Sys.SockAddrUn* address)
    {
        *address = default;
        address->Family = Sys.AF_UNIX;
        // Abstract: sun_path[0] = NUL, then the name, no terminator (the length says where it ends).
        // Path: the path, then a NUL (already there from the zeroing above).
        int start = IsAbstract ? 1 : 0;
        int written = Encoding.UTF8.GetBytes(Name, new Span<byte>(address->Path + start, MaxNameBytes));
        return (uint)(Sys.SunPathOffset + start + written + (IsAbstract ? 0 : 1));
    }

    private static void Validate(string name, string parameter, string what)
    {
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The {what} '{name}' contains a NUL character.", parameter);
        }

        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxNameBytes)
        {
            throw new ArgumentException(
                $"The {what} '{name}' is {bytes} bytes long; a Unix socket address holds at most {MaxNameBytes}. Use a shorter {what}.", parameter);
        }
    }
}
