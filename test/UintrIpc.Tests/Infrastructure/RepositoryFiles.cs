namespace UintrIpc.Tests.Infrastructure;

/// <summary>Files of the repository the tests run from (the source tree above the output folder).</summary>
internal static class RepositoryFiles
{
    /// <summary>The repository root (the folder holding interop/Makefile).</summary>
    /// <exception cref="DirectoryNotFoundException">The tests do not run from inside the source tree.</exception>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "interop", "Makefile")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException($"No repository root (interop/Makefile) above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>The full path of <paramref name="relative"/> under the repository root.</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);
}
