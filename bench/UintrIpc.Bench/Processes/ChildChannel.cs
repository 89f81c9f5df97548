using System.Text.Json;

namespace UintrIpc.Bench.Processes;

/// <summary>The child's side of the line protocol on stdout (see <see cref="ChildProcess"/>).</summary>
internal sealed class ChildChannel
{
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly TextWriter _out;

    public ChildChannel(TextWriter output) => _out = output;

    /// <summary>Tells the parent the child is set up; <paramref name="payload"/> carries e.g. descriptor numbers.</summary>
    public void Ready(object? payload = null) => Write("READY", payload ?? new { });

    /// <summary>The child's measurements (its own CPU time, counters).</summary>
    public void Result(object payload) => Write("RESULT", payload);

    public void Error(string message) => WriteLine("ERROR " + message.ReplaceLineEndings(" "));

    private void Write(string tag, object payload) => WriteLine(tag + " " + JsonSerializer.Serialize(payload, payload.GetType(), s_json));

    private void WriteLine(string line)
    {
        lock (_out)
        {
            _out.WriteLine(line);
            _out.Flush();
        }
    }
}
