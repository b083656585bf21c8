namespace ModelService.Model.Artifacts;

/// <summary>A model folder is missing a file, is corrupt, or does not describe a model this library can run.</summary>
public sealed class InvalidModelArtifactException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidModelArtifactException()
    {
    }

    /// <summary>Creates the exception with a message saying what is wrong.</summary>
    public InvalidModelArtifactException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying failure.</summary>
    public InvalidModelArtifactException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
