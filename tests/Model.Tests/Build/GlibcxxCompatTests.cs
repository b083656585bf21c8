using ModelService.Build;
using TorchSharp;

namespace ModelService.Model.Tests.Build;

public sealed class GlibcxxCompatTests : IDisposable
{
    private const string Version = "GLIBCXX_3.4.32";
    private readonly string _scratch = Directory.CreateTempSubdirectory("glibcxx-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public void Pristine_TorchSharp_glue_requires_the_version_strictly()
    {
        var flags = ElfVersionNeeds.ReadFlags(PristineGlue(), Version);

        Assert.NotNull(flags);
        Assert.Equal(0, flags!.Value & ElfVersionNeeds.VerFlagWeak);
    }

    [Fact]
    public void Marking_weak_changes_only_that_flag_and_is_idempotent()
    {
        var copy = Path.Combine(_scratch, "libLibTorchSharp.so");
        File.Copy(PristineGlue(), copy);
        var before = File.ReadAllBytes(copy);

        Assert.True(ElfVersionNeeds.MarkWeak(copy, Version));
        Assert.False(ElfVersionNeeds.MarkWeak(copy, Version));

        var after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.Single(changed);
        Assert.Equal(ElfVersionNeeds.VerFlagWeak, (ushort)(ElfVersionNeeds.ReadFlags(copy, Version)! & ElfVersionNeeds.VerFlagWeak));
    }

    [LinuxFact]
    public void Build_output_is_weakened_exactly_when_the_host_lacks_the_version()
    {
        var hostHasVersion = ElfVersionNeeds.LibraryDefines(LoadedLibStdCxx(), Version);
        var output = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");

        var weak = (ElfVersionNeeds.ReadFlags(output, Version)!.Value & ElfVersionNeeds.VerFlagWeak) != 0;

        Assert.Equal(!hostHasVersion, weak);
    }

    [Fact]
    public void Weakened_library_loads_and_computes()
    {
        using var scope = torch.NewDisposeScope();
        var sum = torch.arange(1, 5, dtype: torch.float32).sum().item<float>();

        Assert.Equal(10f, sum);
    }

    [Fact]
    public void Non_elf_file_is_refused()
    {
        var text = Path.Combine(_scratch, "not-elf.so");
        File.WriteAllText(text, "hello, this is not an ELF image at all, padded to sixty-four bytes.....");

        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(text, Version));
    }

    /// <summary>The libstdc++ the dynamic loader gave this process (the runtime itself links it), wherever the
    /// distribution keeps it.</summary>
    private static string LoadedLibStdCxx()
    {
        var path = File.ReadLines("/proc/self/maps")
            .Select(line => line[(line.IndexOf('/', StringComparison.Ordinal) is var i and >= 0 ? i : line.Length)..])
            .FirstOrDefault(file => Path.GetFileName(file).StartsWith("libstdc++.so", StringComparison.Ordinal));
        Assert.True(path is not null, "No libstdc++ is mapped into the test process.");
        return path;
    }

    private static string PristineGlue()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp's native package is expected at {path}");
        return path;
    }
}
