using System.Security.Cryptography;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>
/// The directory the request/response tests serve and copy in: a file of random bytes
/// (<see cref="DataFile"/>, read by the 4 KiB reads and copied by the copy tests), removed on Dispose.
/// </summary>
internal sealed class RpcScratch : IDisposable
{
    public const string DataFile = "data.bin";
    public const string CopyFile = "copy.bin";

    private RpcScratch(string root) => Root = root;

    public string Root { get; }

    public string DataPath => Path.Combine(Root, DataFile);

    public string CopyPath => Path.Combine(Root, CopyFile);

    /// <summary>A new directory under the temporary folder with a data file of <paramref name="bytes"/> random bytes (in the page cache after writing).</summary>
    public static RpcScratch Create(long bytes)
    {
        var scratch = new RpcScratch(Directory.CreateTempSubdirectory("uintripc-bench-rpc-").FullName);
        try
        {
            using var file = new FileStream(scratch.DataPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
            byte[] chunk = new byte[1 << 20];
            for (long left = bytes; left > 0; left -= chunk.Length)
            {
                RandomNumberGenerator.Fill(chunk);
                file.Write(chunk, 0, (int)Math.Min(left, chunk.Length));
            }
        }
        catch
        {
            scratch.Dispose();
            throw;
        }

        return scratch;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A server still holding a file: the folder is in the temporary folder either way.
        }
    }
}
