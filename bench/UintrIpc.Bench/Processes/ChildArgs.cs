using System.Globalization;

namespace UintrIpc.Bench.Processes;

/// <summary>The arguments of a child process: <c>--child ROLE --key value ...</c>, written by the parent, read by the child.</summary>
internal sealed class ChildArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public ChildArgs(string role) => Role = role;

    /// <summary>What the child does (a workload's child role).</summary>
    public string Role { get; }

    public ChildArgs Set(string key, object value)
    {
        _values[key] = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
        return this;
    }

    public string Get(string key) => _values.TryGetValue(key, out var v) ? v
        : throw new ArgumentException($"The child needs --{key}.");

    public string? GetOrNull(string key) => _values.GetValueOrDefault(key);

    public int GetInt(string key) => int.Parse(Get(key), CultureInfo.InvariantCulture);

    public long GetLong(string key) => long.Parse(Get(key), CultureInfo.InvariantCulture);

    public double GetDouble(string key) => double.Parse(Get(key), CultureInfo.InvariantCulture);

    public T GetEnum<T>(string key) where T : struct, Enum => Enum.Parse<T>(Get(key), ignoreCase: true);

    /// <summary>The command line after the host and dll: <c>--child ROLE --k v ...</c>.</summary>
    public IEnumerable<string> ToArguments()
    {
        yield return "--child";
        yield return Role;
        foreach (var (k, v) in _values)
        {
            yield return "--" + k;
            yield return v;
        }
    }

    /// <summary>Parses what <see cref="ToArguments"/> wrote (without the leading <c>--child</c>).</summary>
    public static ChildArgs Parse(ReadOnlySpan<string> args)
    {
        if (args.Length == 0)
        {
            throw new ArgumentException("--child needs a role.");
        }

        var result = new ChildArgs(args[0]);
        for (int i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Bad child argument '{args[i]}': expected --key value.");
            }

            result._values[args[i][2..]] = args[i + 1];
        }

        return result;
    }
}
