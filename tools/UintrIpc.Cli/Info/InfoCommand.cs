using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using UintrIpc.Cli.Output;

namespace UintrIpc.Cli.Info;

/// <summary>`uintr-ipc info [--json]`: what this machine supports.</summary>
internal static class InfoCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables." };
        var command = new Command("info", """
            What this machine supports: CPU and kernel user-interrupt status with the exact reason,
            the uintr kernel variant if any, which doorbells work (futex, eventfd, signal, uintr),
            page sizes and huge pages.
            """)
        {
            json,
        };
        command.SetAction(parse =>
        {
            var report = MachineProbe.Run();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Default.MachineReport));
            }
            else
            {
                Render(report);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Render(MachineReport r)
    {
        var console = Terminal.Create();
        var machine = Terminal.KeyValueTable("Machine");
        machine.AddRow("Kernel", Markup.Escape(r.Kernel));
        machine.AddRow("Architecture", r.Architecture);
        machine.AddRow("CPU", Markup.Escape(r.CpuModel ?? "unknown"));
        machine.AddRow("Logical CPUs", r.LogicalCpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        machine.AddRow("Native shim", Markup.Escape(r.NativeShim ?? "not loaded"));
        console.Write(machine);

        var u = r.UserInterrupts;
        var uintr = Terminal.KeyValueTable("User interrupts (UINTR)");
        uintr.AddRow("Available", Terminal.YesNo(u.Available));
        uintr.AddRow("CPU support", u.CpuSupported is { } cpu ? Terminal.YesNo(cpu) : "not x86-64");
        uintr.AddRow("Kernel variant", Markup.Escape(u.KernelVariant is null ? "none identified" : $"{u.KernelVariant}: {u.KernelVariantDescription}"));
        uintr.AddRow("Failed step", u.FailedStep + (u.Errno != 0 ? $" (errno {u.Errno})" : string.Empty));
        uintr.AddRow("Reason", Markup.Escape(u.Reason));
        console.Write(uintr);

        var doorbells = new Table { Title = new TableTitle("Doorbells"), Border = TableBorder.Rounded };
        doorbells.AddColumns("Kind", "Works here", "Why");
        foreach (var d in r.Doorbells)
        {
            doorbells.AddRow(d.Kind + (d.Kind == r.BestDoorbell ? " (best)" : string.Empty), Terminal.YesNo(d.Available), Markup.Escape(d.Reason));
        }

        console.Write(doorbells);

        var m = r.Memory;
        var memory = Terminal.KeyValueTable("Memory");
        memory.AddRow("Page size", Terminal.Bytes(m.PageSize));
        foreach (var pool in m.HugePageSizes)
        {
            memory.AddRow($"Huge pages {Terminal.Bytes(pool.SizeBytes)}", $"{pool.Free} free of {pool.Total}");
        }

        memory.AddRow("Transparent huge pages", m.TransparentHugePages ?? "not supported");
        memory.AddRow("Huge pages available", Terminal.YesNo(m.HugePagesAvailable));
        memory.AddRow("/dev/shm free", m.SharedMemoryFreeBytes is { } free ? Terminal.Bytes(free) : "unknown");
        console.Write(memory);
    }
}
