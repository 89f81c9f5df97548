using System.Text.Json;
using System.Text.Json.Serialization;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>results.json: the whole run, machine-readable (snake_case, nulls omitted), and read back for --report-from.</summary>
internal static class JsonReport
{
    private static readonly JsonSerializerOptions s_options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static void Write(RunReport report, string path) => File.WriteAllText(path, JsonSerializer.Serialize(report, s_options) + "\n");

    public static RunReport Read(string path) =>
        JsonSerializer.Deserialize<RunReport>(File.ReadAllText(path), s_options)
        ?? throw new InvalidDataException($"{path} holds no run report");
}
