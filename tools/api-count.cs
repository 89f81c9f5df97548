#:property NoWarn=IL2026;IL2075;IL2072
// Counts the public surface of UintrIpc.dll by reflection, per namespace (issue 8 measures it):
//   dotnet run tools/api-count.cs -- lib/UintrIpc/bin/Release/net10.0/UintrIpc.dll [-v]
// A public type counts once (nested public types of public types too); a member counts when it is
// declared public or protected in it (a property or event once, not its accessors; compiler-
// generated members and enum plumbing not at all). The reviewed list of the API itself is
// lib/UintrIpc/PublicAPI.Unshipped.txt.
using System.Reflection;
using System.Runtime.CompilerServices;

string path = Path.GetFullPath(args[0]);
string dir = Path.GetDirectoryName(path)!;
AppDomain.CurrentDomain.AssemblyResolve += (_, e) =>
{
    string candidate = Path.Combine(dir, new AssemblyName(e.Name).Name + ".dll");
    if (File.Exists(candidate)) return Assembly.LoadFrom(candidate);
    string name = new AssemblyName(e.Name).Name!;
    string cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", name.ToLowerInvariant());
    var found = Directory.Exists(cache) ? Directory.GetFiles(cache, name + ".dll", SearchOption.AllDirectories).OrderByDescending(f => f).FirstOrDefault() : null;
    return found is null ? null : Assembly.LoadFrom(found);
};
var asm = Assembly.LoadFrom(path);
const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
int types = 0, members = 0;
var perNs = new SortedDictionary<string, (int Types, int Members)>();
bool verbose = args.Length > 1 && args[1] == "-v";
foreach (var t in asm.GetExportedTypes().OrderBy(t => t.FullName))
{
    int m = 0;
    foreach (var mi in t.GetMembers(all))
    {
        if (mi.IsDefined(typeof(CompilerGeneratedAttribute))) continue;
        bool visible = mi switch
        {
            MethodBase mb => !mb.IsSpecialName || mb is ConstructorInfo ? (mb.IsPublic || mb.IsFamily || mb.IsFamilyOrAssembly) && !(t.IsEnum) : false,
            FieldInfo f => (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && !f.IsSpecialName,
            PropertyInfo p => p.GetAccessors(true).Any(a => a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly),
            EventInfo ev => ev.AddMethod is { } add && (add.IsPublic || add.IsFamily || add.IsFamilyOrAssembly),
            Type => false, // nested types count as types
            _ => false,
        };
        if (mi is MethodBase { IsSpecialName: true } op && op is not ConstructorInfo && op.Name.StartsWith("op_")) visible = ((MethodBase)mi).IsPublic;
        if (!visible) continue;
        m++;
        if (verbose) Console.WriteLine($"    {t.FullName} :: {mi}");
    }
    types++;
    members += m;
    var ns = t.Namespace ?? "";
    perNs[ns] = (perNs.GetValueOrDefault(ns).Types + 1, perNs.GetValueOrDefault(ns).Members + m);
    if (verbose) Console.WriteLine($"{t.FullName}: {m}");
}
foreach (var (ns, c) in perNs) Console.WriteLine($"{ns,-22} {c.Types,4} types {c.Members,5} members");
Console.WriteLine($"total                  {types,4} types {members,5} members");
