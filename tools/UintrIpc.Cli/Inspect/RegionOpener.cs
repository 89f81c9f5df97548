using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Memory;

namespace UintrIpc.Cli.Inspect;

/// <summary>
/// Opens the region `inspect` was given and turns every way that can fail into a message a
/// person can act on, with its exit code: no such region, permission denied, not a UintrIpc
/// region, corrupted region. The region is validated by the library's own attach
/// (SharedRegion.Attach); the tool maps it as the library does and writes nothing.
/// </summary>
internal static unsafe class RegionOpener
{
    /// <summary>Opens NAME (a file under /dev/shm) or a path (/dev/shm/NAME, /proc/PID/fd/N for a memfd region).</summary>
    /// <param name="target">What the user typed.</param>
    /// <param name="initTimeout">How long to wait for a creator that has not published the header yet.</param>
    /// <returns>The attached region and the path it came from.</returns>
    /// <exception cref="CliException">Any failure, classified.</exception>
    internal static (SharedRegion Region, string Path) Open(string target, TimeSpan initTimeout)
    {
        string path = target.Contains('/', StringComparison.Ordinal) ? target : SharedRegion.SharedMemoryDirectory + "/" + target;
        using SafeFdHandle fd = OpenFile(path, target);
        try
        {
            return (SharedRegion.Attach(fd, initTimeout), path);
        }
        catch (RegionFormatException e)
        {
            throw Classify(e, path);
        }
        catch (UintrIpcException e)
        {
            throw new CliException(ExitCodes.Failure, $"cannot map {path}: {e.Message}", e);
        }
    }

    private static SafeFdHandle OpenFile(string path, string target)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            // Read-write, as the library maps regions (it writes nothing here). O_NONBLOCK: a FIFO
            // in /dev/shm must not block the open.
            fd = LibC.open(p, LibC.O_RDWR | LibC.O_CLOEXEC | LibC.O_NOCTTY | LibC.O_NONBLOCK, 0);
        }

        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                _ when errno == LibC.ENOENT => new CliException(ExitCodes.NotFound, target.Contains('/', StringComparison.Ordinal)
                    ? $"{path} does not exist (a memfd region is reached as /proc/PID/fd/N of a process that holds it)."
                    : $"no region named '{target}': {path} does not exist. Named regions live in {SharedRegion.SharedMemoryDirectory} (ls {SharedRegion.SharedMemoryDirectory}); a memfd region is reached as /proc/PID/fd/N."),
                _ when errno == LibC.EACCES || errno == LibC.EPERM => new CliException(ExitCodes.PermissionDenied,
                    $"permission denied opening {path}{Owner(path)}. Regions are created mode 0600 (their owner only): run uintr-ipc as that user."),
                _ when errno == LibC.EISDIR => new CliException(ExitCodes.NotARegion, $"{path} is a directory, not a UintrIpc region."),
                _ => new CliException(ExitCodes.Failure, $"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})."),
            };
        }

        var handle = new SafeFdHandle(fd, ownsHandle: true);
        stat st;
        if (LibC.fstat(fd, &st) == 0 && (st.st_mode & LibC.S_IFMT) != LibC.S_IFREG)
        {
            handle.Dispose();
            throw new CliException(ExitCodes.NotARegion, $"{path} is not a regular file, so not a UintrIpc region.");
        }

        return handle;
    }

    /// <summary>" (owner uid 1000, mode 0600)", or empty when even stat is refused.</summary>
    private static string Owner(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        stat st;
        fixed (byte* p = bytes)
        {
            if (LibC.stat(p, &st) != 0)
            {
                return string.Empty;
            }
        }

        return $" (owner uid {(uint)st.st_uid}, mode {Convert.ToString((int)st.st_mode & 0xfff, 8).PadLeft(4, '0')}; you are uid {(uint)LibC.geteuid()})";
    }

    private static CliException Classify(RegionFormatException e, string path) => e.Field switch
    {
        "magic" when e.Found == "0x00000000" => new CliException(ExitCodes.NotARegion,
            $"{path} is not a published UintrIpc region: its first word is 0 (a region whose creator has not finished, or a zero-filled file of another program).", e),
        "magic" => new CliException(ExitCodes.NotARegion,
            $"{path} is not a UintrIpc region: it starts with {e.Found}, not the magic {e.Expected} (\"UIPC\"). It is another program's file.", e),
        "file size" => new CliException(ExitCodes.NotARegion,
            $"{path} is not a UintrIpc region: it has {e.Found}, less than a region header ({RegionLayout.HeaderSize} bytes).", e),
        "layout version" => new CliException(ExitCodes.Corrupted,
            $"{path} is a UintrIpc region of another layout version ({e.Found}; this tool reads {e.Expected}): use the uintr-ipc of the UintrIpc version that made it.", e),
        _ => new CliException(ExitCodes.Corrupted, $"{path} is a corrupted UintrIpc region: {e.Message}", e),
    };
}
