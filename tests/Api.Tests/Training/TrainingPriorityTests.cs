using System.Globalization;

namespace ModelService.Api.Tests.Training;

/// <summary>The training thread yields the CPU to requests: SCHED_IDLE by default, or the configured nice value.</summary>
public sealed class TrainingPriorityTests
{
    private const int SchedOther = 0;
    private const int SchedIdle = 5;

    [LinuxTheory]
    [InlineData(null, null, SchedIdle)]
    [InlineData("false", "10", SchedOther)]
    [InlineData("false", "0", SchedOther)]
    public async Task A_running_job_trains_on_a_thread_with_the_configured_priority(string? idle, string? niceness, int policy)
    {
        // The test factory turns idle scheduling off for the other tests; null stands for the service defaults (true, 10).
        var settings = new Dictionary<string, string?>
        {
            ["Training:IdleScheduling"] = idle ?? "true",
            ["Training:Niceness"] = niceness ?? "10",
        };
        using var factory = new ModelServiceFactory(settings);
        var client = factory.CreateClient(ModelServiceFactory.ApiKey);
        var dataset = await client.UploadCsvAsync(TestData.HousesCsv(2000, seed: 3));
        var job = await client.SubmitAsync(new { datasetId = dataset.GetProperty("id").GetString(), target = "price", epochs = 1000, batchSize = 1 });
        var jobId = job.GetProperty("id").GetString()!;
        await client.WaitForJobAsync(jobId, j => j.GetProperty("status").GetString() == "running");

        // The job is marked running just before its thread starts, and the thread lowers its priority first thing.
        var expected = (Policy: policy, Nice: int.Parse(niceness ?? "10", CultureInfo.InvariantCulture));
        var thread = TrainingThread(jobId);
        for (var wait = 0; wait < 100 && thread != expected; wait++)
        {
            await Task.Delay(20);
            thread = TrainingThread(jobId);
        }
        await client.PostAsync(new Uri($"/api/v1/training-jobs/{jobId}/cancel", UriKind.Relative), null);

        Assert.NotNull(thread);
        Assert.Equal(expected.Policy, thread.Value.Policy);
        Assert.Equal(expected.Nice, thread.Value.Nice);
    }

    // The scheduling policy and nice value of this process's thread named after the job (Linux truncates names to 15 bytes).
    private static (int Policy, int Nice)? TrainingThread(string jobId)
    {
        var name = $"training {jobId}"[..15];
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') != name)
                {
                    continue;
                }
                // Fields after the parenthesised name start at field 3; nice is field 19 and policy field 41 (proc(5)).
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return (int.Parse(fields[41 - 3], CultureInfo.InvariantCulture), int.Parse(fields[19 - 3], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The thread ended while being read.
            }
        }
        return null;
    }
}
