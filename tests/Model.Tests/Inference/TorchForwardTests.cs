using ModelService.Model.Data;
using ModelService.Model.Inference;
using TorchSharp;

namespace ModelService.Model.Tests.Inference;

public sealed class TorchForwardTests
{
    [Fact]
    public void Ten_thousand_predictions_leave_no_live_tensor_behind()
    {
        using var forward = new TorchForward(TestData.SeedModel);
        FeatureValue[] row = [FeatureValue.FromNumber(0.5), FeatureValue.FromNumber(0.5)];
        var prediction = new double[1];
        forward.Predict(row, 1, prediction);
        var statistics = DisposeScopeManager.Statistics;
        var liveBefore = statistics.ThreadTotalLiveCount;
        var createdBefore = statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;

        for (var i = 0; i < 10_000; i++)
        {
            forward.Predict(row, 1, prediction);
        }

        Assert.True(statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount - createdBefore >= 10_000, "each call creates tensors");
        Assert.Equal(liveBefore, statistics.ThreadTotalLiveCount);
    }
}
