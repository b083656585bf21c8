using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ModelService.Api.Tests;

/// <summary>Calls a test makes through the public HTTP API.</summary>
public static class ServiceApi
{
    public static async Task<JsonElement> UploadCsvAsync(this HttpClient client, string csv, string name = "test")
    {
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await client.PostAsync(new Uri($"/api/v1/datasets?name={Uri.EscapeDataString(name)}", UriKind.Relative), content);
        return await ExpectAsync(response, HttpStatusCode.Created);
    }

    public static async Task<JsonElement> UploadJsonAsync(this HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/v1/datasets", body);
        return await ExpectAsync(response, HttpStatusCode.Created);
    }

    public static async Task<JsonElement> SubmitAsync(this HttpClient client, object request)
    {
        var response = await client.PostAsJsonAsync("/api/v1/training-jobs", request);
        return await ExpectAsync(response, HttpStatusCode.Accepted);
    }

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path)
    {
        var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return await ExpectAsync(response, HttpStatusCode.OK);
    }

    /// <summary>Polls a job until <paramref name="done"/> holds (by default: it finished), failing after a minute.</summary>
    public static async Task<JsonElement> WaitForJobAsync(this HttpClient client, string jobId, Func<JsonElement, bool>? done = null)
    {
        done ??= job => job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var job = await client.GetJsonAsync($"/api/v1/training-jobs/{jobId}");
            if (done(job))
            {
                return job;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Job {jobId} did not reach the expected state: {job}");
            await Task.Delay(50);
        }
    }

    public static async Task<JsonElement> TrainAsync(this HttpClient client, object request)
    {
        var job = await client.SubmitAsync(request);
        var finished = await client.WaitForJobAsync(job.GetProperty("id").GetString()!);
        Assert.True(finished.GetProperty("status").GetString() == "succeeded", $"Training failed: {finished}");
        return finished;
    }

    public static async Task<double[]> PredictAsync(this HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/v1/predictions", body);
        var json = await ExpectAsync(response, HttpStatusCode.OK);
        return [.. json.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble())];
    }

    public static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts an RFC 9457 problem with <paramref name="status"/>; with <paramref name="field"/>, that its
    /// errors name that field.</summary>
    public static async Task<JsonElement> ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        if (field is not null)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _),
                $"Expected errors to name '{field}': {body}");
        }
        return problem;
    }

    /// <summary>Reads a text/event-stream until the server closes it, within two minutes: each event's type and data.</summary>
    public static async Task<List<(string Type, JsonElement Data)>> ReadEventsAsync(this HttpClient client, string path)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = new List<(string, JsonElement)>();
        string? type = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((type!, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone()));
            }
        }
        return events;
    }

    public static StringContent Csv(string csv) => new(csv, Encoding.UTF8, "text/csv");

    public static ByteArrayContent Bytes(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    public static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");
}
