using System.Diagnostics;
using Microsoft.Extensions.Options;
using ModelService.Api.Datasets;
using ModelService.Api.Infrastructure;
using ModelService.Api.Models;
using ModelService.Api.Observability;
using ModelService.Model.Artifacts;
using ModelService.Model.Training;

namespace ModelService.Api.Training;

/// <summary>Runs one job start to finish on the calling thread: loads its dataset, trains, stores the model with the
/// job's tags and, when asked, activates it. Throws <see cref="OperationCanceledException"/> when cancelled.</summary>
internal sealed class TrainingJobRunner(
    DatasetStore datasets, ModelRegistry models, JobStore jobs, TrainingEvents events, IOptions<TrainingJobOptions> options,
    TimeProvider clock)
{
    /// <summary>Progress is written at most this often; the last epochs are always written when training ends.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    public ModelManifest Run(TrainingJob job, CancellationToken cancellationToken)
    {
        using var activity = ServiceMetrics.Training.StartActivity("training job");
        activity?.SetTag("modelservice.job.id", job.Id);
        activity?.SetTag("modelservice.dataset.id", job.Request.DatasetId);
        var request = job.Request;
        var data = datasets.Load(request.DatasetId!)
            ?? throw new JobFailedException($"Dataset '{request.DatasetId}' no longer exists.");
        var spec = TrainingRequestValidator.ToSpec(request, options.Value.EffectiveThreads);
        var pending = new List<EpochLoss>();
        var lastWrite = clock.GetTimestamp();
        void OnEpoch(EpochProgress progress)
        {
            pending.Add(new EpochLoss(progress.Epoch, progress.TrainLoss, progress.ValidationLoss));
            events.PublishEpoch(job.Id, progress);
            if (clock.GetElapsedTime(lastWrite) >= ProgressInterval || progress.Epoch == progress.Epochs)
            {
                jobs.RecordEpochs(job.Id, pending);
                pending.Clear();
                lastWrite = clock.GetTimestamp();
            }
        }

        TrainedModel trained;
        try
        {
            trained = Trainer.Train(data, spec, OnEpoch, cancellationToken);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // The trainer's way of saying the data or settings cannot work (or training diverged).
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw new JobFailedException(e.Message, e);
        }
        finally
        {
            jobs.RecordEpochs(job.Id, pending);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var model = ModelArtifact.WithId(trained, Ids.NewModelId(), new Dictionary<string, string>
        {
            [ModelTags.DatasetId] = request.DatasetId!,
            [ModelTags.TrainingJobId] = job.Id,
        });
        models.Add(model, request.Activate == true);
        activity?.SetTag("modelservice.model.id", model.Manifest.Id);
        return model.Manifest;
    }
}

/// <summary>A job that cannot succeed for a reason its owner can act on; the message is shown as the job's error.</summary>
internal sealed class JobFailedException : Exception
{
    public JobFailedException()
    {
    }

    public JobFailedException(string message)
        : base(message)
    {
    }

    public JobFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
