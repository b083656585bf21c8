namespace ModelService.Model.Training;

/// <summary>
/// Fold <see cref="Index"/> of <see cref="Count"/>-fold cross-validation. The rows with a target are shuffled by the
/// training seed and cut into <see cref="Count"/> consecutive parts whose sizes differ by at most one; the fold validates
/// on part <see cref="Index"/> and trains on the others. The same seed gives the same parts for every fold, so the folds
/// of one seed validate on every row exactly once.
/// </summary>
/// <param name="Index">The part held out, in [0, Count).</param>
/// <param name="Count">The number of parts, at least 2.</param>
public sealed record CrossValidationFold(int Index, int Count)
{
    /// <summary>The fewest parts cross-validation accepts.</summary>
    public const int MinimumCount = 2;

    /// <summary>Every fold of <paramref name="count"/>-fold cross-validation, in order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below <see cref="MinimumCount"/>.</exception>
    public static IReadOnlyList<CrossValidationFold> All(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, MinimumCount);
        return Enumerable.Range(0, count).Select(i => new CrossValidationFold(i, count)).ToArray();
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the count or index is out of range.</summary>
    internal void Validate()
    {
        if (Count < MinimumCount)
        {
            throw new ArgumentException($"folds must be at least {MinimumCount}, got {Count}.");
        }
        if (Index < 0 || Index >= Count)
        {
            throw new ArgumentException($"The fold index must be in [0, {Count}), got {Index}.");
        }
    }

    /// <summary>Where the held-out part starts among <paramref name="rows"/> shuffled rows, and its length.</summary>
    internal (int Start, int Count) ValidationRange(int rows)
    {
        var start = (int)((long)rows * Index / Count);
        var end = (int)((long)rows * (Index + 1) / Count);
        return (start, end - start);
    }
}
