using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Inference;

namespace ModelService.Model.Tests.Artifacts;

public sealed class DefaultModelTests
{
    [Fact]
    public void Bundled_default_model_loads_and_prices_the_middle_house_at_about_300000()
    {
        var model = ModelArtifact.Load(Path.Combine(AppContext.BaseDirectory, "DefaultModel"));

        var price = new double[1];
        new Predictor(model).Predict([FeatureValue.FromNumber(0.5), FeatureValue.FromNumber(0.5)], 1, price);

        Assert.Equal(["square_footage", "rooms"], model.Manifest.Features.Select(f => f.Name));
        Assert.InRange(price[0], 285_000, 315_000);
        Assert.Equal("price", model.Manifest.Target);
        Assert.Equal([16, 8], model.Manifest.Network.HiddenChannels);
        Assert.Equal(193, model.Manifest.Network.ParameterCount);
        // Its manifest predates tensor models: without the fields it is a table model with a flatten-dense head.
        Assert.Equal(InputKind.Table, model.Manifest.InputKind);
        Assert.Equal(Model.Network.Head.FlattenDense, model.Manifest.Network.Head);
        Assert.Null(model.Manifest.TargetShape);
    }
}
