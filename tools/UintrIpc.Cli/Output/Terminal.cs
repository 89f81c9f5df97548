using System.Globalization;
using Spectre.Console;

namespace UintrIpc.Cli.Output;

/// <summary>Console and table helpers shared by the commands.</summary>
internal static class Terminal
{
    /// <summary>
    /// A console for tables: colors only on a terminal; when the output is redirected, plain
    /// text 160 columns wide (so that long reasons are not wrapped into narrow cells).
    /// </summary>
    internal static IAnsiConsole Create()
    {
        var settings = new AnsiConsoleSettings();
        if (Console.IsOutputRedirected)
        {
            settings.Ansi = AnsiSupport.No;
            settings.ColorSystem = ColorSystemSupport.NoColors;
            settings.Interactive = InteractionSupport.No;
        }

        var console = AnsiConsole.Create(settings);
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 160;
        }

        return console;
    }

    /// <summary>A two-column table with a title.</summary>
    internal static Table KeyValueTable(string title)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Rounded, ShowHeaders = false };
        table.AddColumn("key");
        table.AddColumn("value");
        return table;
    }

    internal static string YesNo(bool value) => value ? "[green]yes[/]" : "[red]no[/]";

    /// <summary>1536 -> "1.5 KiB".</summary>
    internal static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }
}
