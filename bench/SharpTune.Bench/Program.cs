// Benchmarks are run as `dotnet run -c Release --project bench/SharpTune.Bench -- <name> [args]`.
// Each area adds its benchmark under bench/SharpTune.Bench/ and registers it in BenchRegistry.
using SharpTune.Bench;

return BenchRegistry.Run(args);
