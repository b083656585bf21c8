// Trains the model the service installs when its store is empty: the seed example's synthetic house prices.
// Usage: dotnet run --project tools/DefaultModelTrainer -- [output folder, default src/Api/DefaultModel]
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Inference;
using ModelService.Model.Training;

var output = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine("src", "Api", "DefaultModel"));

var spec = new TrainingRequestSpec(
    Target: "price",
    Features: ["square_footage", "rooms"],
    Network: new NetworkOptions(HiddenChannels: [16, 8]),
    Options: new TrainingOptions { Epochs = 50, BatchSize = 16, LearningRate = 1e-3, ValidationFraction = 0.2, Seed = 42 });

var trained = Trainer.Train(SeedExample.HousePrices(rows: 10000, seed: 7), spec,
    e => Console.WriteLine(FormattableString.Invariant($"epoch {e.Epoch,2}/{e.Epochs}: train loss {e.TrainLoss:F5}, validation loss {e.ValidationLoss:F5}")),
    CancellationToken.None);
var model = ModelArtifact.WithId(trained, "default", new Dictionary<string, string>
{
    ["source"] = "tools/DefaultModelTrainer",
    ["data"] = "synthetic: price = 500000*square_footage + 100000*rooms, features ~ U[0,1), 10000 rows",
});

// Save next to the output folder, then swap the two artifact files in so that other files there (the README) stay.
var staging = output.TrimEnd(Path.DirectorySeparatorChar) + ".new";
if (Directory.Exists(staging))
{
    Directory.Delete(staging, recursive: true);
}
ModelArtifact.Save(model, staging);
Directory.CreateDirectory(output);
foreach (var file in (string[])[ModelArtifact.WeightsFileName, ModelArtifact.ManifestFileName])
{
    File.Move(Path.Combine(staging, file), Path.Combine(output, file), overwrite: true);
}
Directory.Delete(staging);

var loaded = new Predictor(ModelArtifact.Load(output));
var test = SeedExample.HousePrices(rows: 1000, seed: 8);
var inputs = new FeatureValue[test.RowCount * 2];
for (var r = 0; r < test.RowCount; r++)
{
    inputs[2 * r] = FeatureValue.FromNumber(test["square_footage"].Numbers![r]);
    inputs[(2 * r) + 1] = FeatureValue.FromNumber(test["rooms"].Numbers![r]);
}
var predictions = new double[test.RowCount];
loaded.Predict(inputs, test.RowCount, predictions);
var rmse = Math.Sqrt(predictions.Select((p, r) => Math.Pow(p - test["price"].Numbers![r], 2)).Average());
var middle = new double[1];
loaded.Predict([FeatureValue.FromNumber(0.5), FeatureValue.FromNumber(0.5)], 1, middle);

var m = model.Manifest;
Console.WriteLine(FormattableString.Invariant($"""
    wrote {output}
    parameters {m.Network.ParameterCount}, training {m.Training.DurationSeconds:F3} s, {m.Training.TrainRows} train / {m.Training.ValidationRows} validation rows
    validation RMSE {m.Metrics.Validation!.Rmse:F1}, held-out test RMSE {rmse:F1} (1000 rows)
    prediction for square_footage=0.5, rooms=0.5: {middle[0]:F1}
    """));
