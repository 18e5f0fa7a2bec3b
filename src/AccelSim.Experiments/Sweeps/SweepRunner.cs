using System.Collections;
using System.Diagnostics;
using System.Threading.Channels;
using AccelSim.Core;

namespace AccelSim.Experiments.Sweeps;

/// <summary>How to run a sweep: output folder, parallelism, shard, and what to do with an existing folder.</summary>
public sealed record SweepRunOptions(string OutputDirectory)
{
    /// <summary>Worker threads; default: every core.</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;

    public ShardSpec? Shard { get; init; }

    /// <summary>Continue an interrupted run in the same folder (same sweep hash), skipping finished points.</summary>
    public bool Resume { get; init; }

    /// <summary>Discard an existing results file.</summary>
    public bool Force { get; init; }

    /// <summary>How often finished rows are forced to stable storage (fsync). Rows reach the OS after every batch.</summary>
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>If this many points fail before any point of the sweep succeeds, stop: the spec is probably wrong.</summary>
    public int AbortAfterInitialFailures { get; init; } = 16;

    /// <summary>A lock on <see cref="OutputDirectory"/> the caller already holds (the CLI holds it for the whole
    /// command, report included); null: the run takes the lock itself and releases it when it returns.</summary>
    public ResultsFolderLock? HeldLock { get; init; }
}

/// <summary>A point that failed: its index, its one-line error, and whether that error is bad input
/// (<see cref="InputException"/>, already `FILE:LINE:COL: field: problem`) rather than an internal failure.</summary>
public sealed record PointFailure(int Index, string Message, bool IsInputError)
{
    public override string ToString() => $"point {Index}: {Message}";
}

/// <summary>The outcome of <see cref="SweepRunner.Run"/>. <see cref="FirstFailure"/> is the failed point of lowest
/// index, <see cref="FirstInputFailure"/> the lowest one that failed with bad input (so that an internal failure of
/// an earlier point does not hide it); on a completed run neither depends on thread timing.</summary>
public sealed record SweepRunResult(
    string ResultsPath,
    int ShardPoints,
    int AlreadyDone,
    int Evaluated,
    int Failed,
    int InputFailed,
    bool Completed,
    bool Interrupted,
    bool Aborted,
    TimeSpan Elapsed,
    PointFailure? FirstFailure,
    PointFailure? FirstInputFailure,
    int FailedRowsRetried,
    long TornBytesRemoved)
{
    public string? FirstError => FirstFailure?.ToString();

    public double PointsPerSecond => Elapsed.TotalSeconds > 0 ? Evaluated / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Runs a sweep's points on worker threads and streams one CSV row per finished point to `DIR/results.csv`.
/// Rows reach the OS after every batch (so a kill -9 loses at most rows whose newline never reached the file,
/// which a resumed run recomputes) and stable storage every <see cref="SweepRunOptions.SyncInterval"/>.
/// A finished run rewrites the file in canonical order (ascending point index). The folder is locked for the
/// whole run (<see cref="ResultsFolderLock"/>); a resumed run checks every row it finds before trusting it.
/// </summary>
public static class SweepRunner
{
    private readonly record struct Finished(int Index, string Line, string? Error, bool ErrorIsInput);

    public static SweepRunResult Run(SweepSpec spec, IPointEvaluator evaluator, SweepRunOptions options,
        ISweepProgress? progress = null, CancellationToken cancellationToken = default)
    {
        progress ??= SilentProgress.Instance;
        if (options.Jobs < 1) throw new InputException(null, "--jobs", $"must be at least 1, got {options.Jobs}");
        if (evaluator.Engine != spec.Engine)
            throw new ArgumentException($"evaluator {evaluator.Engine} does not match sweep engine {spec.Engine}");
        if (options.Shard is { } s && s.Count > 1 && spec.CountIn(s) == 0)
            throw new InputException(null, "--shard", $"shard {s} has no points: the sweep has only {spec.PointCount}");

        var clock = Stopwatch.StartNew();
        var dir = options.OutputDirectory;
        if (options.HeldLock is { } given && !given.Covers(dir))
            throw new ArgumentException($"the held lock is on {given.Directory}, not on {dir}");
        // One writer per folder: a second sweep (or merge) on it is refused at once, naming this process.
        using var ownLock = options.HeldLock is null ? ResultsFolderLock.Acquire(dir) : null;
        var resultsPath = Path.Combine(dir, SweepMetadata.ResultsFileName);
        var metadataPath = Path.Combine(dir, SweepMetadata.FileName);
        var metadata = SweepMetadata.From(spec, options.Shard);
        var done = new BitArray(spec.PointCount);
        var recovered = new ResultsFile.Recovered(0, 0, 0);

        var hasRows = File.Exists(resultsPath) && new FileInfo(resultsPath).Length > 0;
        if (options.Resume && (hasRows || File.Exists(metadataPath)))
        {
            CheckSameSweep(SweepMetadata.Read(metadataPath), metadata, metadataPath);
            if (File.Exists(resultsPath)) recovered = ResultsFile.Recover(resultsPath, spec, options.Shard, done);
        }
        else if (hasRows && !options.Force)
        {
            var rows = Math.Max(0, File.ReadLines(resultsPath).Count() - 1);
            throw new InputException(SourceLocation.FileOnly(resultsPath), null,
                $"already holds {Invariant.Grouped(rows)} rows; pass --resume to continue that run or --force to start over");
        }
        else if (File.Exists(resultsPath))
        {
            File.Delete(resultsPath);
        }
        metadata.Write(metadataPath);

        var shardPoints = spec.CountIn(options.Shard);
        var pending = shardPoints - recovered.Rows;
        progress.Start(spec.Name, pending, recovered.Rows);

        var evaluated = 0;
        var failed = 0;
        var inputFailed = 0;
        PointFailure? firstFailure = null;
        PointFailure? firstInputFailure = null;
        var aborted = false;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        if (pending > 0)
        {
            var channel = Channel.CreateUnbounded<Finished>(new UnboundedChannelOptions { SingleReader = true });
            var cursor = -1;
            var shardStart = options.Shard?.Index ?? 0;
            var shardStep = options.Shard?.Count ?? 1;

            void Work()
            {
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var k = Interlocked.Increment(ref cursor);
                        if (k >= shardPoints) break;
                        var index = shardStart + k * shardStep;
                        if (done[index]) continue;
                        var finished = Evaluate(spec, evaluator, index, stop.Token);
                        if (finished is { } f) channel.Writer.TryWrite(f);
                    }
                }
                catch (Exception e)
                {
                    // Only a runner bug gets here (evaluation errors become rows); stop rather than hang.
                    channel.Writer.TryComplete(e);
                }
            }

            var workers = Enumerable.Range(0, Math.Min(options.Jobs, pending))
                .Select(i => new Thread(Work) { IsBackground = true, Name = $"sweep-worker-{i}" }).ToList();
            foreach (var w in workers) w.Start();
            var allJoined = Task.Run(() =>
            {
                foreach (var w in workers) w.Join();
                channel.Writer.TryComplete();
            });

            var fresh = !File.Exists(resultsPath) || new FileInfo(resultsPath).Length == 0;
            var stream = new FileStream(resultsPath, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1);
            var writer = new StreamWriter(stream, ResultsFile.Utf8, 1 << 16) { NewLine = "\n" };
            try
            {
                if (fresh)
                {
                    writer.Write(ResultsFile.HeaderLine(spec));
                    writer.Write('\n');
                }
                var lastSync = clock.Elapsed;
                var anySuccess = recovered.Rows > 0;
                var held = new List<Finished>();
                var reader = channel.Reader;
                while (true)
                {
                    if (!reader.TryRead(out var item))
                    {
                        writer.Flush();
                        if (clock.Elapsed - lastSync >= options.SyncInterval)
                        {
                            stream.Flush(flushToDisk: true);
                            lastSync = clock.Elapsed;
                        }
                        progress.Report(evaluated, failed);
                        if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) break;
                        continue;
                    }
                    if (item.Error is not null)
                    {
                        failed++;
                        // Report the failures with the lowest index, so the message does not depend on timing.
                        var failure = new PointFailure(item.Index, item.Error, item.ErrorIsInput);
                        if (firstFailure is null || item.Index < firstFailure.Index) firstFailure = failure;
                        if (item.ErrorIsInput)
                        {
                            inputFailed++;
                            if (firstInputFailure is null || item.Index < firstInputFailure.Index) firstInputFailure = failure;
                        }
                        if (!anySuccess)
                        {
                            // Until one point succeeds, failures are held back: if they are all that comes, the
                            // sweep is aborted without leaving a results file that blocks the corrected rerun.
                            held.Add(item);
                            if (held.Count >= Math.Min(options.AbortAfterInitialFailures, pending))
                            {
                                aborted = true;
                                stop.Cancel();
                                break;
                            }
                            continue;
                        }
                    }
                    else if (!anySuccess)
                    {
                        anySuccess = true;
                        foreach (var h in held) Append(writer, h, ref evaluated);
                        held.Clear();
                    }
                    Append(writer, item, ref evaluated);
                }
                if (!aborted)
                    foreach (var h in held) Append(writer, h, ref evaluated);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            catch
            {
                stop.Cancel();
                throw;
            }
            finally
            {
                writer.Dispose();
                allJoined.Wait();
                // A runner bug inside a worker surfaces here.
                if (channel.Reader.Completion.IsFaulted) channel.Reader.Completion.GetAwaiter().GetResult();
            }

            if (aborted && evaluated == 0 && recovered.Rows == 0 && fresh) File.Delete(resultsPath);
        }
        else if (!File.Exists(resultsPath))
        {
            File.WriteAllText(resultsPath, ResultsFile.HeaderLine(spec) + "\n", ResultsFile.Utf8);
        }

        var completed = !aborted && recovered.Rows + evaluated == shardPoints;
        var interrupted = !completed && !aborted;
        // The rows were just checked (resumed ones) or written under the lock: shape, index and duplicates suffice.
        if (completed) ResultsFile.Canonicalize(resultsPath, RowRules.For(spec, options.Shard) with { CheckPoint = null });
        progress.Finish(evaluated, failed, interrupted || aborted);
        return new SweepRunResult(resultsPath, shardPoints, recovered.Rows, evaluated, failed, inputFailed, completed,
            interrupted, aborted, clock.Elapsed, firstFailure, firstInputFailure, recovered.FailedRowsDropped,
            recovered.TornBytes);
    }

    private static void Append(StreamWriter writer, Finished item, ref int evaluated)
    {
        writer.Write(item.Line);
        writer.Write('\n');
        evaluated++;
    }

    /// <summary>Prices one point and formats its row; null when cancelled (the point is simply not written).</summary>
    private static Finished? Evaluate(SweepSpec spec, IPointEvaluator evaluator, int index, CancellationToken ct)
    {
        var point = spec.PointAt(index);
        var fields = new string[spec.Columns.Length];
        fields[0] = Invariant.Num(index);
        fields[1] = point.Id;
        var k = 2;
        foreach (var v in point.Values) fields[k++] = v;
        string? error = null;
        var errorIsInput = false;
        try
        {
            var metrics = evaluator.Evaluate(point, ct);
            foreach (var m in spec.Metrics)
            {
                if (!metrics.TryGetValue(m.Name, out var value))
                    throw new InvalidOperationException($"engine {spec.Engine} did not report metric '{m.Name}'");
                // A NaN or an infinity is never a result: it is an unchecked degenerate input (zero bandwidth, an
                // empty tensor) the engine let through. The point fails rather than poisoning means and plots.
                // A numeric metric's text must be a number too (or empty: unavailable), as RowRules checks on resume.
                var bad = value.IsNumber
                    ? double.IsFinite(value.Number) ? null : double.IsNaN(value.Number) ? "not a number" : "an infinite value"
                    : m.IsNumeric && value.Text!.Length > 0 && !(Invariant.TryParseDouble(value.Text, out var parsed) && double.IsFinite(parsed))
                        ? "text that is not a finite number" : null;
                if (bad is not null)
                {
                    error = $"engine {spec.Engine} reported metric '{m.Name}' as {bad}";
                    break;
                }
                fields[k++] = value.Format();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;
        }
        catch (InputException e)
        {
            error = e.OneLine;
            errorIsInput = true;
        }
        catch (Exception e)
        {
            error = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
        }
        if (error is not null)
        {
            for (var i = 2 + point.Values.Count; i < fields.Length - 1; i++) fields[i] = "";
            fields[^1] = error;
        }
        else
        {
            fields[^1] = "";
        }
        return new Finished(index, ResultsFile.FormatLine(fields), error, errorIsInput);
    }

    private static void CheckSameSweep(SweepMetadata existing, SweepMetadata current, string path)
    {
        if (existing.SpecHash != current.SpecHash)
            throw new InputException(SourceLocation.FileOnly(path), "spec_hash",
                "the sweep file, its spec files or --set changed since this folder was started; " +
                "pass --force to start over (or restore the original sweep)");
        if (existing.Shard != current.Shard)
            throw new InputException(SourceLocation.FileOnly(path), "shard",
                $"this folder holds shard {existing.Shard ?? "(none)"}, not {current.Shard ?? "(none)"}");
    }
}
