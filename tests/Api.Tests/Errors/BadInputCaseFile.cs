using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ModelService.Api.Tests.Errors;

/// <summary>The battery's case list as scripts/bad-input-battery.sh reads it (scripts/bad-input-cases.json), so that
/// the outside run sends exactly the cases <see cref="BadInputBatteryTests"/> sends. Bodies are base64 (some are not
/// UTF-8); settings are environment variables for the service under test.</summary>
public sealed class BadInputCaseFile
{
    private const string UpdateVariable = "UPDATE_BAD_INPUT_CASES";

    private static readonly JsonSerializerOptions s_options = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Export()
    {
        var settings = new JsonObject();
        foreach (var (key, value) in BadInputBatteryTests.Service.Settings)
        {
            settings[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var cases = new JsonArray();
        foreach (var bad in BadInputBatteryTests.Cases)
        {
            cases.Add(new JsonObject
            {
                ["name"] = bad.Name,
                ["method"] = bad.Method,
                ["path"] = bad.Path,
                ["status"] = bad.Status,
                ["field"] = bad.Field,
                ["says"] = bad.Says,
                ["contentType"] = bad.ContentType,
                ["body"] = bad.Body is null ? null : Convert.ToBase64String(bad.Body),
                ["key"] = bad.Key == ModelServiceFactory.ApiKey ? "valid" : bad.Key ?? "none",
            });
        }
        var file = new JsonObject
        {
            ["about"] = $"Generated from tests/Api.Tests/Errors/BadInputBatteryTests.cs; regenerate with {UpdateVariable}=1 dotnet test "
                + "tests/Api.Tests --filter FullyQualifiedName~BadInputCaseFile. Read by scripts/bad-input-battery.sh.",
            ["settings"] = settings,
            ["cases"] = cases,
        };
        return file.ToJsonString(s_options) + "\n";
    }

    [Fact]
    public void The_outside_runner_reads_the_same_cases_as_the_battery()
    {
        var path = Path.Combine(RepositoryRoot(), "scripts", "bad-input-cases.json");
        var export = Export();
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(path, export);
        }

        Assert.True(File.Exists(path) && File.ReadAllText(path) == export,
            $"{path} differs from the battery's cases; regenerate it with {UpdateVariable}=1 (see the file's 'about').");
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ModelService.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"No ModelService.sln above {AppContext.BaseDirectory}.");
    }
}
