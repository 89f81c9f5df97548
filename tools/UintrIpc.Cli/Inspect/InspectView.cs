using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using UintrIpc.Cli.Output;

namespace UintrIpc.Cli.Inspect;

/// <summary>The tables of `inspect` (without --json).</summary>
internal static class InspectView
{
    internal static IRenderable Render(RegionSnapshot s)
    {
        var header = Terminal.KeyValueTable("Region");
        header.AddRow("Source", Markup.Escape(s.Source));
        header.AddRow("Kind", Markup.Escape($"{s.Kind} ({s.KindCode})"));
        header.AddRow("Size", $"{Terminal.Bytes(s.Size)} ({s.Size} bytes)");
        header.AddRow("Layout version", Number(s.LayoutVersion));
        header.AddRow("State", s.State);
        header.AddRow("Epoch", s.Epoch);
        header.AddRow("Creator", Process(s.Creator));
        header.AddRow("Mapped by", s.AttachedProcesses.Count == 0 ? "no other process (that this user can see)"
            : string.Join(", ", s.AttachedProcesses.Select(p => Markup.Escape($"{p.Pid} ({p.Command})"))));

        var parts = new Table { Title = new TableTitle("Parts"), Border = TableBorder.Rounded };
        parts.AddColumns("#", "Kind", "Tag", "Offset", "Length", "Contents");
        foreach (var p in s.Parts)
        {
            parts.AddRow(Number(p.Index), p.Kind, Number(p.Tag), Number(p.Offset), Number(p.Length), Contents(p));
        }

        return new Rows(header, parts);
    }

    private static string Contents(PartSnapshot p)
    {
        if (p.Problem is not null)
        {
            return "[red]invalid:[/] " + Markup.Escape(p.Problem);
        }

        if (p.Ring is { } r)
        {
            string geometry = r.Unit == "slots" ? $"{r.Capacity} slots of {r.ElementSize} B" : $"{Terminal.Bytes(r.Capacity)} of records, messages up to {r.MaxMessageLength} B";
            string occupancy = r.Problem is null ? $"{r.Occupancy} {r.Unit} in use ({r.OccupancyPercent:0.#}%)" : "[red]" + Markup.Escape(r.Problem) + "[/]";
            string heartbeat = r.ConsumerHeartbeatAgeMs is { } age ? $"consumer heartbeat {age} ms ago" : "no consumer heartbeat";
            return $"{geometry}\nproducer position {r.ProducerPosition}, consumer position {r.ConsumerPosition}\n{occupancy}; {heartbeat}";
        }

        if (p.WaitBlock is { } w)
        {
            string consumer = w.Consumer is null ? "no consumer has parked yet" : $"consumer {Process(w.Consumer)} thread {w.ConsumerThread}";
            return $"consumer {w.ConsumerState}, doorbell {w.Doorbell}, wake word {w.WakeWord}\n{consumer}\n" +
                $"sleeps {w.Sleeps}, timeouts {w.Timeouts}, wake-ups seen {w.WakeupsSeen}, sent {w.WakeupsSent}, suppressed {w.WakeupsSuppressed}";
        }

        return string.Empty;
    }

    private static string Process(ProcessReport p) => p.Alive
        ? $"{p.Pid} ({Markup.Escape(p.Command ?? "?")}, alive{(p.MapsRegion ? ", maps the region" : ", does not map the region")})"
        : $"{p.Pid} ([red]gone[/])";

    private static string Number<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);
}
