using System.Diagnostics;
using Microsoft.Extensions.Options;
using ModelService.Api.Datasets;
using ModelService.Api.Storage;
using ModelService.Api.Models;
using ModelService.Model.Artifacts;
using ModelService.Model.Data;
using ModelService.Model.Training;

namespace ModelService.Api.Training;

/// <summary>Runs one attempt of a job on the calling thread: loads its dataset (a table or tensor data), trains, and
/// returns the model with the job's tags for the worker to record. Throws <see cref="OperationCanceledException"/> when
/// cancelled and <see cref="LeaseLostException"/> when the attempt no longer holds the job.</summary>
internal sealed class TrainingJobRunner(
    IDatasetStore datasets, IJobStore jobs, TrainingEvents events, IOptions<TrainingQueueOptions> options, TimeProvider clock)
{
    /// <summary>Progress is written at most this often; the last epochs are always written when training ends.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    public TrainedModel Run(JobLease lease, CancellationToken cancellationToken)
    {
        var job = lease.Job;
        using var activity = TrainingTelemetry.Jobs.StartActivity("training job");
        activity?.SetTag("modelservice.job.id", job.Id);
        activity?.SetTag("modelservice.dataset.id", job.Request.DatasetId);
        var request = job.Request;
        DataTable? table = null;
        TensorData? tensor = null;
        if (datasets.Get(request.DatasetId!) is { Kind: DatasetKind.Tensor })
        {
            tensor = datasets.LoadTensor(request.DatasetId!) ?? throw Missing(request.DatasetId);
        }
        else
        {
            table = datasets.Load(request.DatasetId!) ?? throw Missing(request.DatasetId);
        }
        var spec = request.ToSpec(options.Value.EffectiveThreads);
        var pending = new List<EpochLoss>();
        var lastWrite = clock.GetTimestamp();
        void OnEpoch(EpochProgress progress)
        {
            pending.Add(new EpochLoss(progress.Epoch, progress.TrainLoss, progress.ValidationLoss));
            events.PublishEpoch(job.Id, progress);
            if (clock.GetElapsedTime(lastWrite) >= ProgressInterval || progress.Epoch == progress.Epochs)
            {
                TryRecord();
                lastWrite = clock.GetTimestamp();
            }
        }

        void TryRecord()
        {
            try
            {
                jobs.RecordEpochs(lease, pending);
                pending.Clear();
            }
            catch (StoreUnavailableException)
            {
                // Training goes on while the store is away; the epochs are written with the next batch.
            }
        }

        TrainedModel trained;
        try
        {
            trained = tensor is not null
                ? Trainer.Train(tensor, spec, OnEpoch, cancellationToken)
                : Trainer.Train(table!, spec, OnEpoch, cancellationToken);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // The trainer's way of saying the data or settings cannot work (or training diverged).
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw new JobFailedException(e.Message, e);
        }
        finally
        {
            TryRecord();
        }
        cancellationToken.ThrowIfCancellationRequested();
        var model = ModelArtifact.WithId(trained, Ids.NewModelId(), new Dictionary<string, string>
        {
            [ModelTags.DatasetId] = request.DatasetId!,
            [ModelTags.TrainingJobId] = job.Id,
        });
        activity?.SetTag("modelservice.model.id", model.Manifest.Id);
        return model;
    }

    private static JobFailedException Missing(string? datasetId) => new($"Dataset '{datasetId}' no longer exists.");
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
