using ModelService.Api.Auth;
using ModelService.Api.Datasets;
using ModelService.Api.Errors;
using ModelService.Api.Health;
using ModelService.Api.Inference;
using ModelService.Api.Json;
using ModelService.Api.Limits;
using ModelService.Api.Logging;
using ModelService.Api.Models;
using ModelService.Api.Observability;
using ModelService.Api.OpenApi;
using ModelService.Api.Predictions;
using ModelService.Api.StatusPage;
using ModelService.Api.Storage;
using ModelService.Api.Sweeps;
using ModelService.Api.Training;

var builder = WebApplication.CreateBuilder(args);

builder.AddApiLogging();
builder.AddObservability();
// Before AddApiProblemDetails: the protocol's error writer has to come before the default one.
builder.AddInference();
builder.Services
    .AddRequestLimits()
    .AddApiProblemDetails()
    .AddValidation()
    .AddApiJson()
    .AddApiKeyAuth()
    .AddApiRateLimiting()
    .AddApiSwagger()
    .AddStorage()
    .AddModels()
    .AddPredictions()
    .AddTraining()
    .AddSweeps()
    .AddHealth();

var app = builder.Build();

app.UseApiRequestLogging();
app.UseApiErrorHandling();
app.UseInference();
app.UseApiSwagger();
app.UseStatusPage();
app.UseApiKeyAuth();
app.UseRateLimiter();

app.MapDatasets();
app.MapTraining();
app.MapSweeps();
app.MapModels();
app.MapPredictions();
app.MapHealth();
app.MapMetrics();
app.MapInference();

app.Run();

public partial class Program;
