using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// An independent hostile writer (test/native/hostile_writer.c, written only against the C
/// header) scribbles into a live region while a .NET victim (TestPeer hostile-victim: a
/// producer thread and a consumer thread on one channel) runs. The victim must never crash,
/// hang, or signal itself or a bystander; a bad value either leaves every message delivered
/// in order, or gives a clear error (RingCorruptedException naming the field) on the side that
/// read it. Never a silent loss or reorder.
/// </summary>
/// <remarks>
/// The victim writes and reads 3 x capacity values (the ring has wrapped), announces "ready"
/// with the ring quiescent, the attack runs, then the victim writes and reads 2 x capacity
/// more. Its consumer re-checks the ring every millisecond while it waits, so it meets a
/// forged value before the producer writes over it.
/// </remarks>
[Collection(CrossProcessCollection.Name)]
public sealed partial class HostileWriterTests(ITestOutputHelper output) : IDisposable
{
    private const int Capacity = 64;
    private static readonly TimeSpan VictimTimeout = TimeSpan.FromSeconds(60);
    private readonly ShmNames _names = new();

    private static string HostileProgram => Path.Combine(AppContext.BaseDirectory, "native", "uintripc-hostile");

    public static TheoryData<string, string> AllRings => new()
    {
        { "slots", "spsc" }, { "slots", "mpsc" }, { "messages", "spsc" }, { "messages", "mpsc" },
    };

    [Theory]
    [InlineData("spsc")]
    [InlineData("mpsc")]
    public void A_forged_sequence_word_at_the_head_is_a_clear_error_for_the_consumer(string ring)
    {
        var result = RunVictim("slots", ring, "futex", named: true, v => Hostile(v.Path, "seq", "0", "0xdeadbeef"));
        AssertNoCrashNoSilentLoss(result);
        Assert.True(result.ConsumerError.Contains("RingCorruptedException", StringComparison.Ordinal) && result.ConsumerError.Contains("sequence", StringComparison.OrdinalIgnoreCase),
            $"the consumer must name the corrupt sequence word; it said: {result.ConsumerError}");
    }

    [Theory]
    [InlineData("spsc")]
    [InlineData("mpsc")]
    public void A_record_header_with_an_impossible_length_is_a_clear_error_for_the_consumer(string ring)
    {
        var result = RunVictim("messages", ring, "futex", named: true, v => Hostile(v.Path, "record", "0", "0x7fff0000", "3"));
        AssertNoCrashNoSilentLoss(result);
        AssertClearError(result.ConsumerError, "length");
    }

    [Theory]
    [InlineData("spsc")]
    [InlineData("mpsc")]
    public void A_record_header_with_a_negative_type_is_a_clear_error_for_the_consumer(string ring)
    {
        var result = RunVictim("messages", ring, "futex", named: true, v => Hostile(v.Path, "record", "0", "16", "-5"));
        AssertNoCrashNoSilentLoss(result);
        AssertClearError(result.ConsumerError, "type");
    }

    // Positions (uintripc.h section 2c): each side keeps its own privately. The consumer never
    // reads its head back and an SPSC producer never reads its tail back, so moving those words
    // changes nothing; an MPSC producer must read the shared tail and refuses one behind what it
    // claimed or beyond a capacity ahead; a producer checks the head it reads against its tail.

    [Theory]
    [MemberData(nameof(AllRings))]
    public void A_tail_moved_far_ahead_is_ignored_by_an_spsc_producer_and_a_clear_error_for_mpsc(string kind, string ring)
        => AssertIgnoredOrProducerError(RunVictim(kind, ring, "futex", named: true, v => Hostile(v.Path, "tail-add", "1000000")), ring, "tail");

    [Theory]
    [MemberData(nameof(AllRings))]
    public void A_tail_moved_back_is_ignored_by_an_spsc_producer_and_a_clear_error_for_mpsc(string kind, string ring)
        => AssertIgnoredOrProducerError(RunVictim(kind, ring, "futex", named: true, v => Hostile(v.Path, "tail-add", "-8")), ring, "tail");

    [Theory]
    [MemberData(nameof(AllRings))]
    public void A_tail_near_2_pow_63_is_ignored_by_an_spsc_producer_and_a_clear_error_for_mpsc(string kind, string ring)
        => AssertIgnoredOrProducerError(RunVictim(kind, ring, "futex", named: true, v => Hostile(v.Path, "tail", "0x7ffffffffffffff0")), ring, "tail");

    [Theory]
    [MemberData(nameof(AllRings))]
    public void A_head_moved_ahead_neither_crashes_nor_loses_silently(string kind, string ring)
    {
        // Three outcomes, by timing: the producer reads the forged head while it is ahead of its
        // tail (an error naming the head); or once its tail has passed it, when it is a plausible
        // head, and overwrites unread messages, which the consumer reports; or the consumer
        // publishes its own head first and erases the lie.
        AssertNoCrashNoSilentLoss(RunVictim(kind, ring, "futex", named: true, v => Hostile(v.Path, "head-add", "8")));
    }

    [Theory]
    [MemberData(nameof(AllRings))]
    public void A_head_moved_back_is_ignored_by_both_sides(string kind, string ring)
    {
        // The consumer keeps its head privately; a producer's cached head only moves forward, and
        // a head still within one capacity behind its tail only makes it think the ring is fuller.
        var result = RunVictim(kind, ring, "futex", named: true, v => Hostile(v.Path, "head-add", "-8"));
        Assert.True(result.AllDelivered, $"a head moved back must change nothing (uintripc.h section 2c): {result}");
    }

    [Theory]
    [MemberData(nameof(AllRings))]
    public void A_changed_ring_descriptor_does_not_affect_attached_endpoints(string kind, string ring)
    {
        var result = RunVictim(kind, ring, "futex", named: true, v => Hostile(v.Path, "capacity", "0x40000000"));
        AssertNoCrashNoSilentLoss(result);
        Assert.True(result.AllDelivered, $"the descriptor is read once at attach; the victim should not notice: {result}");
    }

    [Theory]
    [InlineData("slots")]
    [InlineData("messages")]
    public void A_forged_wait_block_cannot_make_the_producer_signal_itself(string kind)
    {
        Process? forger = null;
        var result = RunVictim(kind, "spsc", "signal", named: true, v =>
        {
            // The producer thread's own pid and tid: the signal doorbell must not take its target from here.
            forger = ExternalProgram.Start(HostileProgram, v.Path, "wait", Arg(v.Pid), Arg(v.ProducerTid), "3000");
            Thread.Sleep(50);
        });
        var forged = ExternalProgram.Finish(forger!);
        output.WriteLine(forged.ToString());
        Assert.Equal(0, forged.ExitCode);
        AssertNoCrashNoSilentLoss(result);
    }

    [Theory]
    [InlineData("slots")]
    [InlineData("messages")]
    public void A_forged_wait_block_cannot_make_the_producer_signal_another_process(string kind)
    {
        using var bystander = ExternalProgram.Start("sleep", "60");
        try
        {
            Process? forger = null;
            var result = RunVictim(kind, "spsc", "signal", named: true, v =>
            {
                forger = ExternalProgram.Start(HostileProgram, v.Path, "wait", Arg(bystander.Id), Arg(bystander.Id), "3000");
                Thread.Sleep(50);
            });
            var forged = ExternalProgram.Finish(forger!);
            Assert.Equal(0, forged.ExitCode);
            Assert.False(bystander.HasExited, $"the bystander (pid {bystander.Id}) was killed: the producer signalled a process named only by the shared wait block");
            AssertNoCrashNoSilentLoss(result);
        }
        finally
        {
            bystander.Kill();
            bystander.WaitForExit(5000);
        }
    }

    [Fact]
    public void A_memfd_region_cannot_be_truncated_or_grown_by_a_peer()
    {
        var result = RunVictim("slots", "spsc", "futex", named: false, v =>
        {
            var shrink = Hostile(v.Path, "truncate", "0", expectedExit: 4);
            Assert.Contains("errno 1 ", shrink.StandardOutput, StringComparison.Ordinal); // EPERM: sealed
            var grow = Hostile(v.Path, "truncate", "0x10000000", expectedExit: 4);
            Assert.Contains("errno 1 ", grow.StandardOutput, StringComparison.Ordinal);
        });
        AssertNoCrashNoSilentLoss(result);
        Assert.True(result.AllDelivered, result.ToString());
    }

    /// <summary>
    /// The residual risk docs/security.md states: a named region's file truncated while it is
    /// mapped takes the mapping's pages away, and the next access raises SIGBUS. No seal exists
    /// for such files; memfd regions are immune (the test above). If this test fails, the risk is
    /// gone: update docs/security.md.
    /// </summary>
    [Fact]
    public void Truncating_a_mapped_named_region_is_the_documented_residual_risk()
    {
        string name = _names.New("hostile");
        using var victim = PeerProcess.Start(output, "hostile-victim", "slots", "spsc", "futex", name, Arg(Capacity));
        victim.WaitForOutput("ready", VictimTimeout);
        Hostile(Path.Combine(SharedRegion.SharedMemoryDirectory, name), "truncate", "0");
        try
        {
            victim.WriteLine("go");
        }
        catch (IOException e)
        {
            // The victim may die of the truncation before it reads "go" (its parked consumer
            // touches the wait block at the end of a park slice): the outcome this test expects.
            output.WriteLine($"the victim was gone before \"go\": {e.Message}");
        }

        int code = victim.WaitForExit(VictimTimeout);
        output.WriteLine($"victim exit {code}");
        Assert.True(code != 0 && !victim.StandardOutput.Contains("result", StringComparison.Ordinal),
            $"the victim survived a truncation of its mapped named region (exit {code}): update docs/security.md, the residual risk is gone");
    }

    [Theory]
    [InlineData("4096")]        // shorter than the region: a mapping of it would fault beyond the end
    [InlineData("0x1000000")]   // longer: total_size no longer matches the file
    public void A_named_region_truncated_before_open_is_refused_with_a_clear_error(string size)
    {
        string name = _names.New("trunc");
        using var region = SharedRegion.CreateNamed(name, 0, SlotRing<long>.Part(1024));
        Hostile(Path.Combine(SharedRegion.SharedMemoryDirectory, name), "truncate", size);
        var e = Assert.ThrowsAny<UintrIpcException>(() => SharedRegion.OpenNamed(name, TimeSpan.FromSeconds(1)).Dispose());
        output.WriteLine(e.Message);
        Assert.Contains("size", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("magic", "0x12345678")]
    [InlineData("total_size", "0x7fffffffffff")]
    [InlineData("part_count", "17")]
    [InlineData("part0_offset", "0x7ffffffffff0")]
    [InlineData("part0_length", "0x7ffffffffff0")]
    public void A_forged_region_header_is_refused_at_open_with_the_field_named(string field, string value)
    {
        string name = _names.New("hdr");
        using var region = SharedRegion.CreateNamed(name, 0, SlotRing<long>.Part(64));
        Hostile(Path.Combine(SharedRegion.SharedMemoryDirectory, name), "header", field, value);
        var e = Assert.ThrowsAny<UintrIpcException>(() => SharedRegion.OpenNamed(name, TimeSpan.FromMilliseconds(200)).Dispose());
        output.WriteLine(e.Message);
        string expected = field switch { "part_count" => "part", "part0_offset" => "offset", "part0_length" => "length", "total_size" => "size", _ => field };
        Assert.Contains(expected, e.Message.Replace('_', ' '), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(ScribbleCases))]
    public void Random_scribbling_never_crashes_or_hangs_the_victim(string kind, string ring, int seed)
    {
        Process? scribbler = null;
        var result = RunVictim(kind, ring, "futex", named: true, v =>
        {
            output.WriteLine($"scribble seed {seed}");
            scribbler = ExternalProgram.Start(HostileProgram, v.Path, "scribble", Arg(seed), "1500");
        });
        var scribbled = ExternalProgram.Finish(scribbler!);
        output.WriteLine(scribbled.ToString());
        Assert.Equal(0, scribbled.ExitCode);
        // Random values may forge messages a peer could also have written, so order is not asserted,
        // and the region's state word may read CLOSED (any producer may complete a channel): the
        // victim must stay healthy and every error must be a validation error or the completion.
        AssertOnlyValidationErrors(result, "ChannelClosedException");
    }

    public static TheoryData<string, string, int> ScribbleCases()
    {
        var data = new TheoryData<string, string, int>();
        int seeds = Environment.GetEnvironmentVariable("UINTRIPC_STRESS") == "1" ? 10 : 2;
        foreach (string kind in new[] { "slots", "messages" })
        {
            foreach (string ring in new[] { "spsc", "mpsc" })
            {
                for (int s = 1; s <= seeds; s++)
                {
                    data.Add(kind, ring, s * 7919);
                }
            }
        }

        return data;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _names.Dispose();
    }

    private static string Arg(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>SPSC: the producer never reads its tail back, so all arrives; MPSC: the producer names the word.</summary>
    private static void AssertIgnoredOrProducerError(VictimResult result, string ring, string field)
    {
        AssertNoCrashNoSilentLoss(result);
        if (ring == "spsc")
        {
            Assert.True(result.AllDelivered, $"an SPSC producer keeps its {field} privately (uintripc.h section 2c); a moved {field} must change nothing: {result}");
        }
        else
        {
            AssertClearError(result.ProducerError, field);
        }
    }

    private static void AssertClearError(string error, string field)
        => Assert.True(error.Contains("RingCorruptedException", StringComparison.Ordinal) && error.Contains(field, StringComparison.OrdinalIgnoreCase),
            $"expected a RingCorruptedException naming the {field}; got: {error}");

    /// <summary>
    /// Either everything arrived in order with no error, or a side reports a validation error
    /// (the other may then time out); nothing delivered out of order without an error.
    /// </summary>
    private static void AssertNoCrashNoSilentLoss(VictimResult result)
    {
        bool validationError = result.ProducerError.StartsWith("RingCorruptedException", StringComparison.Ordinal)
            || result.ConsumerError.StartsWith("RingCorruptedException", StringComparison.Ordinal);
        if (!validationError)
        {
            Assert.True(result.AllDelivered, $"a silent loss or reorder: no validation error, but {result}");
        }

        Assert.True(result.InOrder || validationError, $"delivered out of order without an error: {result}");
        AssertOnlyValidationErrors(result);
    }

    private static void AssertOnlyValidationErrors(VictimResult result, string? alsoAllowed = null)
    {
        foreach (string error in new[] { result.ProducerError, result.ConsumerError })
        {
            Assert.True(error == "none" || error.StartsWith("timeout", StringComparison.Ordinal)
                || (alsoAllowed is not null && error.StartsWith(alsoAllowed, StringComparison.Ordinal))
                || error.StartsWith("RingCorruptedException", StringComparison.Ordinal) || error.StartsWith("RegionFormatException", StringComparison.Ordinal),
                $"not a validation error: {error}\n{result}");
        }
    }

    private ExternalProgram.Result Hostile(string path, string attack, params string[] args) => Hostile(path, attack, args, expectedExit: 0);

    private ExternalProgram.Result Hostile(string path, string attack, string arg, int expectedExit) => Hostile(path, attack, [arg], expectedExit);

    private ExternalProgram.Result Hostile(string path, string attack, string[] args, int expectedExit)
    {
        Assert.True(File.Exists(HostileProgram), $"{HostileProgram} is missing: the test project's make step (test/native) did not run.");
        var result = ExternalProgram.Run(HostileProgram, [path, attack, .. args]);
        output.WriteLine($"hostile {attack} {string.Join(' ', args)}: {result}");
        Assert.True(result.ExitCode == expectedExit, $"the hostile writer exited with {result.ExitCode}, expected {expectedExit}: {result}");
        return result;
    }

    /// <summary>Runs the victim, attacks it when it is ready, lets it finish, and checks that it exited normally.</summary>
    private VictimResult RunVictim(string kind, string ring, string doorbell, bool named, Action<VictimInfo> attack)
    {
        string? name = named ? _names.New("hostile") : null;
        using var victim = PeerProcess.Start(output, "hostile-victim", kind, ring, doorbell, name ?? "-", Arg(Capacity));
        victim.WaitForOutput("ready", VictimTimeout);
        var ready = ReadyLine().Match(victim.StandardOutput);
        Assert.True(ready.Success, victim.StandardOutput);
        var info = new VictimInfo(
            int.Parse(ready.Groups[1].Value, CultureInfo.InvariantCulture),
            int.Parse(ready.Groups[2].Value, CultureInfo.InvariantCulture),
            named ? Path.Combine(SharedRegion.SharedMemoryDirectory, name!) : $"/proc/{ready.Groups[1].Value}/fd/{ready.Groups[4].Value}");
        attack(info);
        Thread.Sleep(30); // the waiting consumer re-checks the ring every millisecond
        victim.WriteLine("go");
        int code = victim.WaitForExit(VictimTimeout);
        Assert.True(code == 0, $"the victim died: exit code {code}{(code > 128 ? $" (signal {code - 128})" : "")}\nstderr: {victim.StandardError}\nstdout: {victim.StandardOutput}");
        var match = ResultLines().Match(victim.StandardOutput);
        Assert.True(match.Success, $"the victim printed no result: {victim.StandardOutput}");
        var result = new VictimResult(
            long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
            match.Groups[3].Value == "yes",
            match.Groups[4].Value.Trim(),
            match.Groups[5].Value.Trim());
        output.WriteLine(result.ToString());
        return result;
    }

    [GeneratedRegex(@"ready pid (\d+) producer-tid (\d+) consumer-tid (\d+) fd (\d+)")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"result written (\d+) delivered (\d+) in-order (yes|no)\s+producer-error (.*)\s+consumer-error (.*)")]
    private static partial Regex ResultLines();

    private sealed record VictimInfo(int Pid, int ProducerTid, string Path);

    private sealed record VictimResult(long Written, long Delivered, bool InOrder, string ProducerError, string ConsumerError)
    {
        public bool AllDelivered => Delivered == Written && Written == 5 * Capacity && InOrder && ProducerError == "none" && ConsumerError == "none";
    }
}
