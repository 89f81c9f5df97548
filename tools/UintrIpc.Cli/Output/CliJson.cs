using System.Text.Json.Serialization;
using UintrIpc.Cli.Info;
using UintrIpc.Cli.Inspect;

namespace UintrIpc.Cli.Output;

/// <summary>The JSON shapes of --json output, generated at compile time (no reflection: trimming and AOT safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(MachineReport))]
[JsonSerializable(typeof(RegionSnapshot))]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>The same shapes on one line each (for --watch --json: one snapshot per line).</summary>
    internal static CliJson Compact { get; } = new(new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase });
}
