using System.Diagnostics;
using AccelSim.Core;
using Spectre.Console;

namespace AccelSim.Experiments.Sweeps;

/// <summary>Receives progress from the sweep runner's writer thread (never from workers).</summary>
public interface ISweepProgress : IDisposable
{
    /// <summary><paramref name="pending"/> points will run now; <paramref name="alreadyDone"/> were finished earlier.</summary>
    void Start(string title, int pending, int alreadyDone);

    /// <summary>Called after every batch of rows reaches the file; implementations throttle their output.</summary>
    void Report(int evaluated, int failed);

    void Finish(int evaluated, int failed, bool interrupted);
}

/// <summary>No output (library callers and tests).</summary>
public sealed class SilentProgress : ISweepProgress
{
    public static readonly SilentProgress Instance = new();
    public void Start(string title, int pending, int alreadyDone) { }
    public void Report(int evaluated, int failed) { }
    public void Finish(int evaluated, int failed, bool interrupted) { }
    public void Dispose() { }
}

/// <summary>Plain periodic lines for logs (output redirected, CI=true): count, rate and ETA.</summary>
public sealed class PlainProgress(TextWriter output, TimeSpan interval) : ISweepProgress
{
    private readonly Stopwatch _clock = new();
    private TimeSpan _lastLine;
    private string _title = "";
    private int _pending;
    private int _alreadyDone;

    public void Start(string title, int pending, int alreadyDone)
    {
        _title = title;
        _pending = pending;
        _alreadyDone = alreadyDone;
        _clock.Restart();
        _lastLine = TimeSpan.Zero;
        var resumed = alreadyDone > 0 ? $" ({Invariant.Grouped(alreadyDone)} already done)" : "";
        output.WriteLine($"{title}: {Invariant.Grouped(pending)} points to run{resumed}");
        output.Flush();
    }

    public void Report(int evaluated, int failed)
    {
        var now = _clock.Elapsed;
        if (now - _lastLine < interval) return;
        _lastLine = now;
        output.WriteLine(Line(evaluated, failed, now));
        output.Flush();
    }

    public void Finish(int evaluated, int failed, bool interrupted)
    {
        var now = _clock.Elapsed;
        output.WriteLine(Line(evaluated, failed, now) + (interrupted ? " (interrupted)" : " (done)"));
        output.Flush();
    }

    private string Line(int evaluated, int failed, TimeSpan elapsed)
    {
        var rate = elapsed.TotalSeconds > 0 ? evaluated / elapsed.TotalSeconds : 0;
        var percent = _pending == 0 ? 100 : 100.0 * evaluated / _pending;
        var eta = rate > 0 && evaluated < _pending ? ", ETA " + Duration((_pending - evaluated) / rate) : "";
        var failures = failed > 0 ? $", {Invariant.Grouped(failed)} failed" : "";
        return $"{_title}: {Invariant.Grouped(_alreadyDone + evaluated)}/{Invariant.Grouped(_alreadyDone + _pending)} points " +
               $"({percent.ToString("0.0", Invariant.Culture)}%){failures}, {Rate(rate)} points/s, elapsed {Duration(elapsed.TotalSeconds)}{eta}";
    }

    /// <summary>A rate for humans: 12,345 or 3.2 (no exponent).</summary>
    public static string Rate(double perSecond) =>
        perSecond >= 100 ? Invariant.Grouped((long)Math.Round(perSecond)) : perSecond.ToString("0.##", Invariant.Culture);

    public static string Duration(double seconds)
    {
        if (seconds < 60) return seconds.ToString("0.0", Invariant.Culture) + " s";
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1
            ? $"{(int)t.TotalHours}h{t.Minutes:00}m{t.Seconds:00}s"
            : $"{t.Minutes}m{t.Seconds:00}s";
    }

    public void Dispose() { }
}

/// <summary>A Spectre.Console progress bar with rate and ETA, for an interactive terminal (written to stderr).</summary>
public sealed class TerminalProgress : ISweepProgress
{
    private readonly IAnsiConsole _console;
    private readonly ManualResetEventSlim _ready = new();
    private readonly ManualResetEventSlim _stop = new();
    private Task? _renderer;
    private ProgressTask? _task;
    private int _evaluated;
    private int _failed;
    private string _title = "";

    public TerminalProgress(TextWriter terminal)
    {
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(terminal),
            Interactive = InteractionSupport.Yes,
        });
    }

    public void Start(string title, int pending, int alreadyDone)
    {
        _title = title + (alreadyDone > 0 ? $" (+{Invariant.Grouped(alreadyDone)} done before)" : "");
        _renderer = Task.Run(() => _console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                _task = ctx.AddTask(Markup.Escape(_title), maxValue: Math.Max(1, pending));
                _ready.Set();
                while (!_stop.Wait(100))
                {
                    _task.Value = Volatile.Read(ref _evaluated);
                    var failed = Volatile.Read(ref _failed);
                    if (failed > 0) _task.Description = Markup.Escape($"{_title}, {Invariant.Grouped(failed)} failed");
                }
                _task.Value = Volatile.Read(ref _evaluated);
            }));
        // Wait for the bar to exist, but never block the sweep on a broken terminal.
        _ready.Wait(TimeSpan.FromSeconds(2));
    }

    public void Report(int evaluated, int failed)
    {
        Volatile.Write(ref _evaluated, evaluated);
        Volatile.Write(ref _failed, failed);
    }

    public void Finish(int evaluated, int failed, bool interrupted)
    {
        Report(evaluated, failed);
        _stop.Set();
        _renderer?.Wait(TimeSpan.FromSeconds(5));
    }

    public void Dispose()
    {
        _stop.Set();
        _renderer?.Wait(TimeSpan.FromSeconds(1));
    }
}

public static class SweepProgressFactory
{
    /// <summary>A progress bar when <paramref name="isTerminal"/> and not under CI, plain lines otherwise.</summary>
    public static ISweepProgress Create(TextWriter output, bool isTerminal, TimeSpan? plainInterval = null)
    {
        var ci = Environment.GetEnvironmentVariable("CI") is { } v && v.Length > 0 && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase);
        return isTerminal && !ci
            ? new TerminalProgress(output)
            : new PlainProgress(output, plainInterval ?? TimeSpan.FromSeconds(10));
    }
}
