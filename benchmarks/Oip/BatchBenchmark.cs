using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ModelService.Oip.Bench;

/// <summary>One N-row request, binary FP32 in and binary FP64 out (Triton's client defaults), against the same rows as
/// v2 JSON and as v1 <c>instances</c> (the service's fastest JSON path); each timed from sending to the whole answer
/// read, in turn, after warm-up requests of each.</summary>
internal static class BatchBenchmark
{
    private const string HeaderLength = "Inference-Header-Content-Length";

    public static async Task<IEnumerable<string>> RunAsync(Arguments options)
    {
        var rows = options.Rows;
        var values = new float[rows * 2];
        var random = new Random(42);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.NextSingle();
        }
        var binary = BinaryBody(values, rows, out var headerLength);
        var json = JsonBody(values, rows);
        var instances = InstancesBody(values, rows);
        Console.WriteLine($"== batch: {Stats.Format(rows)} rows; binary body {Stats.Format(binary.Length)} B, v2 JSON body "
            + $"{Stats.Format(json.Length)} B, v1 instances body {Stats.Format(instances.Length)} B; {options.Warmup} warm-up + "
            + $"{options.Timed} timed requests each, in turn");
        using var client = new HttpClient { BaseAddress = options.Rest, Timeout = TimeSpan.FromMinutes(2) };
        var infer = new Uri("/v2/models/modelservice/infer", UriKind.Relative);
        var predictions = new Uri("/api/v1/predictions", UriKind.Relative);
        var binaryTimes = new List<double>();
        var jsonTimes = new List<double>();
        var instancesTimes = new List<double>();
        byte[] binaryAnswer = [], jsonAnswer = [], instancesAnswer = [];
        string? binaryHeaderLength = null;
        for (var i = 0; i < options.Warmup + options.Timed; i++)
        {
            var (binarySeconds, binaryBytes, answerHeader) = await PostAsync(client, infer, binary, headerLength, null);
            var (jsonSeconds, jsonBytes, _) = await PostAsync(client, infer, json, null, "application/json");
            var (instancesSeconds, instancesBytes, _) = await PostAsync(client, predictions, instances, null, "application/json");
            if (i >= options.Warmup)
            {
                binaryTimes.Add(binarySeconds);
                jsonTimes.Add(jsonSeconds);
                instancesTimes.Add(instancesSeconds);
            }
            (binaryAnswer, jsonAnswer, instancesAnswer, binaryHeaderLength) = (binaryBytes, jsonBytes, instancesBytes, answerHeader);
        }
        Check(binaryAnswer, binaryHeaderLength, jsonAnswer, instancesAnswer, rows);
        Console.WriteLine($"binary       (s): {Times(binaryTimes)}");
        Console.WriteLine($"v2 JSON      (s): {Times(jsonTimes)}");
        Console.WriteLine($"v1 instances (s): {Times(instancesTimes)}");
        var binaryRate = rows / Stats.Median(binaryTimes);
        var jsonRate = rows / Stats.Median(jsonTimes);
        var instancesRate = rows / Stats.Median(instancesTimes);
        return
        [
            $"batch binary FP32 in / FP64 out: {Stats.Format(binaryRate)} rows/s ({Stats.Median(binaryTimes) * 1000:F1} ms)",
            $"batch v2 JSON in / JSON out:     {Stats.Format(jsonRate)} rows/s ({Stats.Median(jsonTimes) * 1000:F1} ms)",
            $"batch v1 instances JSON:         {Stats.Format(instancesRate)} rows/s ({Stats.Median(instancesTimes) * 1000:F1} ms)",
            $"batch ratio binary / v2 JSON:    {binaryRate / jsonRate:F2}",
            $"batch ratio binary / v1 JSON:    {binaryRate / instancesRate:F2}",
        ];
    }

    private static async Task<(double Seconds, byte[] Body, string? HeaderLength)> PostAsync(HttpClient client, Uri uri, byte[] body,
        int? headerLength, string? contentType)
    {
        using var content = new ByteArrayContent(body);
        if (headerLength is { } length)
        {
            content.Headers.Add(HeaderLength, length.ToString(CultureInfo.InvariantCulture));
        }
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }
        var started = Stopwatch.GetTimestamp();
        using var response = await client.PostAsync(uri, content);
        var answer = await response.Content.ReadAsByteArrayAsync();
        var seconds = Stats.Seconds(started);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{(int)response.StatusCode}: {Encoding.UTF8.GetString(answer)}");
        }
        return (seconds, answer, response.Headers.TryGetValues(HeaderLength, out var values) ? values.Single() : null);
    }

    private static string Times(List<double> seconds) =>
        string.Join(' ', seconds.Select(t => t.ToString("F4", CultureInfo.InvariantCulture)));

    /// <summary>All three answers must hold the same N predictions: the binary one as raw FP64 after its JSON header.</summary>
    private static void Check(byte[] binary, string? headerLength, byte[] json, byte[] instances, int rows)
    {
        var length = int.Parse(headerLength ?? throw new InvalidOperationException("The binary answer has no header length."),
            CultureInfo.InvariantCulture);
        var raw = binary.AsSpan(length);
        using var v2 = JsonDocument.Parse(json);
        using var v1 = JsonDocument.Parse(instances);
        var data = v2.RootElement.GetProperty("outputs")[0].GetProperty("data");
        var predictions = v1.RootElement.GetProperty("predictions");
        if (raw.Length != rows * 8 || data.GetArrayLength() != rows || predictions.GetArrayLength() != rows)
        {
            throw new InvalidOperationException($"Expected {rows} predictions; got {raw.Length / 8} binary, {data.GetArrayLength()} v2 JSON "
                + $"and {predictions.GetArrayLength()} v1.");
        }
        for (var r = 0; r < rows; r++)
        {
            var value = BinaryPrimitives.ReadDoubleLittleEndian(raw[(r * 8)..]);
            if (value != data[r].GetDouble() || value != predictions[r].GetDouble())
            {
                throw new InvalidOperationException($"Row {r}: the answers differ ({value}, {data[r]}, {predictions[r]}).");
            }
        }
    }

    private static byte[] BinaryBody(float[] values, int rows, out int headerLength)
    {
        var header = Encoding.UTF8.GetBytes($$$"""{"inputs":[{"name":"input0","shape":[{{{rows}}},2],"datatype":"FP32","parameters":{"binary_data_size":{{{values.Length * 4}}}}}],"parameters":{"binary_data_output":true}}""");
        headerLength = header.Length;
        var body = new byte[header.Length + (values.Length * 4)];
        header.CopyTo(body, 0);
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(header.Length + (i * 4)), values[i]);
        }
        return body;
    }

    /// <summary>The same rows as v1 <c>{"instances": [[a, b], ...]}</c>, numbers written as in <see cref="JsonBody"/>.</summary>
    private static byte[] InstancesBody(float[] values, int rows)
    {
        var json = new StringBuilder("""{"instances":[""");
        for (var r = 0; r < rows; r++)
        {
            json.Append(r == 0 ? "[" : ",[").Append(((double)values[2 * r]).ToString("R", CultureInfo.InvariantCulture)).Append(',')
                .Append(((double)values[(2 * r) + 1]).ToString("R", CultureInfo.InvariantCulture)).Append(']');
        }
        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }

    /// <summary>The same FP32 values as JSON numbers, as a Python client writes float32 values (their double's repr).</summary>
    private static byte[] JsonBody(float[] values, int rows)
    {
        var json = new StringBuilder($$"""{"inputs":[{"name":"input0","shape":[{{rows}},2],"datatype":"FP32","data":[""");
        for (var i = 0; i < values.Length; i++)
        {
            json.Append(i == 0 ? "" : ",").Append(((double)values[i]).ToString("R", CultureInfo.InvariantCulture));
        }
        return Encoding.UTF8.GetBytes(json.Append("]}]}").ToString());
    }
}
