using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// The build patches LibTorchSharp for this host in the project's own output (Directory.Build.targets); the projects
// BenchmarkDotNet generates per run would load an unpatched copy, so the benchmarks run in this process.
if (args is ["sweep-timings", ..])
{
    ModelService.Benchmarks.SweepTimings.Run(args);
    return;
}
if (args is ["tensor-timings", ..])
{
    ModelService.Benchmarks.TensorTimings.Run(args);
    return;
}
var config = DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
