using System.Text.Json.Nodes;
using ModelService.Model.Artifacts;
using ModelService.Model.Inference;
using ModelService.Model.Network;
using ModelService.Model.Serialization;

namespace ModelService.Model.Tests.Artifacts;

public sealed class ModelArtifactTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("artifacts-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Saved_model_loads_and_predicts_identically()
    {
        var model = TestData.SeedModel;
        var folder = Path.Combine(_root, "m1");

        ModelArtifact.Save(model, folder);
        var loaded = ModelArtifact.Load(folder);

        var rows = TestData.Rows(TestData.HousePrices(200, 3), TestData.HouseFeatures);
        Assert.Equal(Predict(model, rows), Predict(loaded, rows));
        Assert.Equal(model.Manifest.WeightsSha256, loaded.Manifest.WeightsSha256);
        Assert.Equal(model.Manifest.Training.History, loaded.Manifest.Training.History);
        Assert.Equal(model.Manifest.Metrics, loaded.Manifest.Metrics);
        Assert.Equal(193, loaded.Manifest.Network.ParameterCount);
        Assert.Equal(["m1"], Directory.GetFileSystemEntries(_root).Select(Path.GetFileName));
    }

    [Fact]
    public void Manifest_is_camel_case_json_with_wire_names()
    {
        var folder = Path.Combine(_root, "m");
        ModelArtifact.Save(TestData.SeedModel, folder);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, ModelArtifact.ManifestFileName)))!;

        Assert.Equal("1", (string?)json["formatVersion"]);
        Assert.Equal("numeric", (string?)json["features"]![0]!["type"]);
        Assert.Equal("relu", (string?)json["network"]!["activation"]);
        Assert.Equal(193, (long)json["network"]!["parameterCount"]!);
        Assert.Equal("adam", (string?)json["training"]!["optimizer"]);
        Assert.Equal("hidden.0.conv.weight", (string?)json["tensors"]![0]!["name"]);
        Assert.Equal(64, ((string?)json["weightsSha256"])!.Length);
        Assert.Equal(193 * 4, new FileInfo(Path.Combine(folder, ModelArtifact.WeightsFileName)).Length);
    }

    [Theory]
    [InlineData(Head.PerPosition)]
    [InlineData(Head.FlattenDense)]
    public void A_tensor_model_round_trips_with_its_input_kind_shapes_head_and_channel_standardisation(Head head)
    {
        var model = RandomModel.CreateTensor(new NetworkSpec(3, 4, 2, [5, 3], BatchNorm: true, Head: head), seed: 3);
        var folder = Path.Combine(_root, "tensor");

        ModelArtifact.Save(model, folder);
        var loaded = ModelArtifact.Load(folder);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, ModelArtifact.ManifestFileName)))!;

        var x = TensorTestData.Uniform(5, 3, 4, 2, seed: 4);
        var per = head == Head.PerPosition ? 12 : 1;
        var before = new double[5 * per];
        var after = new double[5 * per];
        new Predictor(model).PredictTensor(x, 5, 3, 4, before);
        new Predictor(loaded).PredictTensor(x, 5, 3, 4, after);
        Assert.Equal(before, after);
        Assert.Equal("tensor", (string?)json["inputKind"]);
        Assert.Equal(WireNames.Of(head), (string?)json["network"]!["head"]);
        Assert.Equal(head == Head.PerPosition ? [3, 4] : [], json["targetShape"]!.AsArray().Select(d => (int)d!));
        Assert.Equal([3, 4, 2], loaded.Manifest.InputShape);
        Assert.Equal(["channel_0", "channel_1"], loaded.Manifest.Features.Select(f => f.Name));
        Assert.Equal(model.Manifest.Features, loaded.Manifest.Features);
    }

    [Fact]
    public void A_tensor_manifest_whose_target_shape_does_not_fit_its_head_is_refused()
    {
        var folder = Path.Combine(_root, "tensor");
        ModelArtifact.Save(RandomModel.CreateTensor(new NetworkSpec(3, 4, 2, [5], Head: Head.PerPosition), seed: 3), folder);
        EditManifest(folder, json => json["targetShape"] = new JsonArray());

        var error = Assert.Throws<InvalidModelArtifactException>(() => ModelArtifact.Load(folder));

        Assert.Contains("target shape", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flipped_byte_in_the_weights_is_refused()
    {
        var folder = Saved();
        var weights = Path.Combine(folder, ModelArtifact.WeightsFileName);
        var bytes = File.ReadAllBytes(weights);
        bytes[17] ^= 0x01;
        File.WriteAllBytes(weights, bytes);

        var error = Assert.Throws<InvalidModelArtifactException>(() => ModelArtifact.Load(folder));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ModelArtifact.ManifestFileName)]
    [InlineData(ModelArtifact.WeightsFileName)]
    public void A_missing_file_is_refused(string file)
    {
        var folder = Saved();
        File.Delete(Path.Combine(folder, file));

        var error = Assert.Throws<InvalidModelArtifactException>(() => ModelArtifact.Load(folder));

        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_folder_is_refused()
    {
        Assert.Throws<InvalidModelArtifactException>(() => ModelArtifact.Load(Path.Combine(_root, "absent")));
    }

    [Fact]
    public void A_manifest_whose_hash_does_not_match_is_refused()
    {
        var folder = Saved();
        EditManifest(folder, json => json["weightsSha256"] = new string('0', 64));

        var error = Assert.Throws<InvalidModelArtifactException>(() => ModelArtifact.Load(folder));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensor_shapes_that_do_not_fit_the_network_are_refused()
    {
        var folder = Saved();
        // Same byte count and hash, but a first layer that would read 4 inputs instead of 2.
        EditManifest(folder, json =>
        {
            json["tensors"]![0]!["shape"] = new JsonArray(8, 4, 1, 1);
            json["tensors"]![1]!["shape"] = new JsonArray(16);
        });

        var error = Assert.Throws<InvalidModelArtifactException>(() => ModelArtifact.Load(folder));

        Assert.Contains("hidden.0.conv.weight", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_manifest_is_refused()
    {
        var folder = Saved();
        var manifest = Path.Combine(folder, ModelArtifact.ManifestFileName);
        File.WriteAllText(manifest, File.ReadAllText(manifest)[..200]);

        Assert.Throws<InvalidModelArtifactException>(() => ModelArtifact.Load(folder));
    }

    [Fact]
    public void Saving_over_an_existing_folder_is_refused_and_leaves_it_alone()
    {
        var folder = Saved();
        var before = File.ReadAllBytes(Path.Combine(folder, ModelArtifact.WeightsFileName));

        Assert.Throws<IOException>(() => ModelArtifact.Save(TestData.SeedModel, folder));

        Assert.Equal(before, File.ReadAllBytes(Path.Combine(folder, ModelArtifact.WeightsFileName)));
        Assert.Single(Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void With_id_changes_id_and_tags_and_keeps_the_weights()
    {
        var tags = new Dictionary<string, string> { ["datasetId"] = "d1" };

        var renamed = ModelArtifact.WithId(TestData.SeedModel, "abc", tags);
        var folder = Path.Combine(_root, "abc");
        ModelArtifact.Save(renamed, folder);
        var loaded = ModelArtifact.Load(folder);

        Assert.Equal("abc", loaded.Manifest.Id);
        Assert.Equal("d1", loaded.Manifest.Tags!["datasetId"]);
        Assert.Equal(TestData.SeedModel.Manifest.WeightsSha256, loaded.Manifest.WeightsSha256);
    }

    private string Saved()
    {
        var folder = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        ModelArtifact.Save(TestData.SeedModel, folder);
        return folder;
    }

    private static void EditManifest(string folder, Action<JsonNode> edit)
    {
        var path = Path.Combine(folder, ModelArtifact.ManifestFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private static double[] Predict(TrainedModel model, ModelService.Model.Data.FeatureValue[] rows)
    {
        var predictions = new double[rows.Length / 2];
        new Predictor(model).Predict(rows, predictions.Length, predictions);
        return predictions;
    }
}
