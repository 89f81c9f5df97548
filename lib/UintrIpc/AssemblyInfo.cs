using System.Runtime.CompilerServices;

// Only blittable signatures in our own imports: no hidden marshalling on hot paths.
[assembly: DisableRuntimeMarshalling]
